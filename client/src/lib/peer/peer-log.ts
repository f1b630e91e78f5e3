/** Where the peer layer reports what it dropped or gave up on. Never given message contents. */
export interface PeerLog {
  debug(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
}

export const silentPeerLog: PeerLog = { debug() {}, warn() {} };

/** The browser console: `debug` is hidden unless the console shows verbose messages. */
export const consolePeerLog: PeerLog = {
  debug: (message, context) => console.debug(message, context ?? ''),
  warn: (message, context) => console.warn(message, context ?? ''),
};
