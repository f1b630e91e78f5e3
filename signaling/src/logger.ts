/** Structured logging with pino. Never log secrets, passwords, session ids or message contents. */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Creates the process logger. JSON lines on stdout; `pino-pretty` can format them in development. */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino({
    level,
    base: { service: 'parley-signaling' },
    redact: {
      paths: ['password', '*.password', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      censor: '[redacted]',
    },
  });
}

/** A logger that drops everything, for tests that do not inspect logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
