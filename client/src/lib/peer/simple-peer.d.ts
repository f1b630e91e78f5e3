/** The little of `@thaunknown/simple-peer` (which ships no types) that `simple-peer-factory.ts` uses. */
declare module '@thaunknown/simple-peer/lite.js' {
  export interface SimplePeerOptions {
    initiator?: boolean;
    config?: RTCConfiguration;
    trickle?: boolean;
    /** Keeps text messages as strings instead of converting them to bytes. */
    objectMode?: boolean;
  }

  export interface SimplePeerEvents {
    signal: (data: object) => void;
    connect: () => void;
    data: (data: unknown) => void;
    close: () => void;
    error: (error: Error) => void;
    iceStateChange: (iceConnectionState: RTCIceConnectionState, iceGatheringState: string) => void;
  }

  export default class SimplePeer {
    constructor(options?: SimplePeerOptions);
    signal(data: object): void;
    send(data: string | ArrayBuffer | ArrayBufferView | Blob): void;
    destroy(error?: Error): void;
    on<E extends keyof SimplePeerEvents>(event: E, listener: SimplePeerEvents[E]): this;
    off<E extends keyof SimplePeerEvents>(event: E, listener: SimplePeerEvents[E]): this;
    getStats(callback: (error: Error | null, reports: Array<Record<string, unknown>>) => void): void;
    readonly bufferSize: number;
    readonly destroyed: boolean;
    /** Internal: the RTCPeerConnection (null once destroyed). */
    _pc: RTCPeerConnection | null;
    /** Internal: the data channel (set at once for the initiator, on `datachannel` otherwise). */
    _channel: RTCDataChannel | null;
  }
}
