/**
 * Configuration, parsed once from the environment at startup. Every variable is validated; a bad one
 * stops the process with a message naming it.
 */
import { z } from 'zod';
import {
  FRIEND_REQUESTS_PER_HOUR,
  FRIENDS_MAX,
  PENDING_INCOMING_MAX,
  PENDING_OUTGOING_MAX,
} from '../../shared/limits.js';

/** Parsed configuration. Tests build one directly with `testConfig()`. */
export interface Config {
  port: number;
  host: string;
  /** Unset: the in-process memory store (nothing persists). */
  redisUrl: string | undefined;
  /** Origins allowed for state-changing requests and WebSocket upgrades; empty: same origin only. */
  publicOrigins: string[];
  /** Session lifetime in milliseconds; sessions slide (lucia extends them when half is used). */
  sessionTtlMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Express `trust proxy` setting: how many proxy hops to trust for the client IP and protocol. */
  trustProxy: number;
  /** Folder of the built client, served at `/`; unset: no static files. */
  staticDir: string | undefined;
  limits: RateLimits;
  ws: WsSettings;
  presence: PresenceSettings;
  turn: TurnSettings;
}

/** STUN/TURN servers handed to browsers (TURN REST API credentials, shared secret with coturn). */
export interface TurnSettings {
  stunUrls: string[];
  turnUrls: string[];
  /** coturn's `static-auth-secret`; unset: no TURN. */
  secret: string | undefined;
  /** Lifetime of issued TURN credentials, seconds. */
  ttlSeconds: number;
  /** `relay`: browsers use TURN candidates only (privacy: peers never learn each other's address). */
  transportPolicy: 'all' | 'relay';
}

export interface PresenceSettings {
  /**
   * How long a connection's presence lease lasts without renewal. A node that dies stops renewing,
   * and its users turn offline for their friends within about this long (plus one sweep).
   */
  leaseMs: number;
  /** How often a node renews the leases of its connections (a fraction of the lease). */
  renewMs: number;
  /** How often a node sweeps leases that expired (any node may sweep any lease). */
  sweepMs: number;
}

export interface RateLimits {
  /** Login attempts per IP per window. */
  loginPerIp: number;
  /** Failed logins per username per window. */
  loginPerUsername: number;
  /** Window of the login limits, seconds. */
  loginWindowSeconds: number;
  /** Accounts created per IP per hour. */
  registerPerIpPerHour: number;
  /** Friend requests one account may send per hour. */
  friendRequestsPerHour: number;
  maxFriends: number;
  maxPendingOutgoing: number;
  maxPendingIncoming: number;
}

export interface WsSettings {
  /** Interval of the ping that finds dead sockets; a socket that misses one pong is terminated. */
  heartbeatMs: number;
  /** Frames allowed per connection per window before the socket is closed with 1008. */
  messagesPerWindow: number;
  /** Signals (knock, SDP, ICE) allowed per connection per window; past it they get `rate_limited`. */
  signalsPerWindow: number;
  /** Bytes one user may push through the server relay per window (all connections, all nodes). */
  relayBytesPerWindow: number;
  windowMs: number;
}

const DEFAULTS = {
  PORT: 8080,
  HOST: '0.0.0.0',
  SESSION_TTL_DAYS: 30,
  LOG_LEVEL: 'info',
  TRUST_PROXY: 0,
  PRESENCE_LEASE_SECONDS: 20,
  TURN_TTL_SECONDS: 3600,
};

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const originList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(
      z.string().refine((o) => {
        try {
          const u = new URL(o);
          return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === o.replace(/\/$/, '');
        } catch {
          return false;
        }
      }, 'must be a comma-separated list of origins like https://chat.example.com (scheme, host, optional port; no path)'),
    ),
  )
  .transform((list) => list.map((o) => new URL(o).origin));

/** A comma-separated list of ICE server URLs with one of the given schemes. */
function iceUrlList(schemes: string[]) {
  return z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z
          .string()
          .refine(
            (u) => schemes.some((scheme) => u.startsWith(scheme)) && /^[a-z]+:[^\s/?#][^\s]*$/.test(u),
            `must be a comma-separated list of ${schemes.join(' or ')} URLs, e.g. ${schemes[0]}turn.example.com:3478`,
          ),
      ),
    );
}

const envSchema = z.object({
  PORT: int(0, 65535).optional(),
  HOST: z.string().trim().min(1, 'must not be empty').optional(),
  REDIS_URL: z
    .string()
    .trim()
    .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')
    .optional(),
  PUBLIC_ORIGIN: originList.optional(),
  SESSION_TTL_DAYS: int(1, 365).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  TRUST_PROXY: int(0, 10).optional(),
  STATIC_DIR: z.string().trim().min(1).optional(),
  PRESENCE_LEASE_SECONDS: int(2, 300).optional(),
  STUN_URLS: iceUrlList(['stun:', 'stuns:']).optional(),
  TURN_URLS: iceUrlList(['turn:', 'turns:']).optional(),
  TURN_SECRET: z.string().min(16, 'must be at least 16 characters (use a long random string)').optional(),
  TURN_TTL_SECONDS: int(60, 86_400).optional(),
  ICE_TRANSPORT_POLICY: z.enum(['all', 'relay']).optional(),
});

/** Thrown when the environment is invalid; the message names each bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment. Empty variables count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv, defaults: { staticDir?: string } = {}): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(
      ([key, value]) => key in envSchema.shape && value !== undefined && value !== '',
    ),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '?');
      return `  ${name}=${JSON.stringify(present[name] ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if ((e.TURN_URLS?.length ?? 0) > 0 !== (e.TURN_SECRET !== undefined)) {
    throw new ConfigError(
      'Invalid environment:\n  TURN_URLS and TURN_SECRET go together: set both (TURN on) or neither (TURN off)',
    );
  }
  return {
    port: e.PORT ?? DEFAULTS.PORT,
    host: e.HOST ?? DEFAULTS.HOST,
    redisUrl: e.REDIS_URL,
    publicOrigins: e.PUBLIC_ORIGIN ?? [],
    sessionTtlMs: (e.SESSION_TTL_DAYS ?? DEFAULTS.SESSION_TTL_DAYS) * 24 * 60 * 60 * 1000,
    logLevel: e.LOG_LEVEL ?? (DEFAULTS.LOG_LEVEL as Config['logLevel']),
    trustProxy: e.TRUST_PROXY ?? DEFAULTS.TRUST_PROXY,
    staticDir: e.STATIC_DIR ?? defaults.staticDir,
    limits: { ...DEFAULT_RATE_LIMITS },
    ws: { ...DEFAULT_WS_SETTINGS },
    presence: presenceSettings((e.PRESENCE_LEASE_SECONDS ?? DEFAULTS.PRESENCE_LEASE_SECONDS) * 1000),
    turn: {
      stunUrls: e.STUN_URLS ?? [],
      turnUrls: e.TURN_URLS ?? [],
      secret: e.TURN_SECRET,
      ttlSeconds: e.TURN_TTL_SECONDS ?? DEFAULTS.TURN_TTL_SECONDS,
      transportPolicy: e.ICE_TRANSPORT_POLICY ?? 'all',
    },
  };
}

/** Renewal at a third of the lease survives two missed renewals; sweeps run often, they are cheap. */
export function presenceSettings(leaseMs: number): PresenceSettings {
  return {
    leaseMs,
    renewMs: Math.max(500, Math.floor(leaseMs / 3)),
    sweepMs: Math.max(250, Math.min(2_000, Math.floor(leaseMs / 4))),
  };
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  loginPerIp: 30,
  loginPerUsername: 10,
  loginWindowSeconds: 15 * 60,
  registerPerIpPerHour: 20,
  friendRequestsPerHour: FRIEND_REQUESTS_PER_HOUR,
  maxFriends: FRIENDS_MAX,
  maxPendingOutgoing: PENDING_OUTGOING_MAX,
  maxPendingIncoming: PENDING_INCOMING_MAX,
};

export const DEFAULT_WS_SETTINGS: WsSettings = {
  heartbeatMs: 30_000,
  // Opening peer connections to several friends at once takes a few dozen frames each (ICE trickle).
  messagesPerWindow: 300,
  signalsPerWindow: 200,
  // 8 MiB per 10 s (~800 KiB/s): chat and modest files; the relay is the last resort, not the pipe.
  relayBytesPerWindow: 8 * 1024 * 1024,
  windowMs: 10_000,
};
