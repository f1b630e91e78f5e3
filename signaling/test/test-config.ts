/** Configuration for tests: loopback, an ephemeral port, silent logs, limits high enough for suites. */
import {
  DEFAULT_RATE_LIMITS,
  DEFAULT_WS_SETTINGS,
  presenceSettings,
  type Config,
  type RateLimits,
  type WsSettings,
} from '../src/config.js';

export type TestConfigOverrides = Omit<Partial<Config>, 'ws' | 'limits'> & {
  ws?: Partial<WsSettings>;
  limits?: Partial<RateLimits>;
};

export function testConfig(overrides: TestConfigOverrides = {}): Config {
  return {
    port: 0,
    host: '127.0.0.1',
    redisUrl: undefined,
    publicOrigins: [],
    sessionTtlMs: 24 * 60 * 60 * 1000,
    logLevel: 'silent',
    trustProxy: 0,
    staticDir: undefined,
    ...overrides,
    limits: {
      ...DEFAULT_RATE_LIMITS,
      registerPerIpPerHour: 10_000,
      loginPerIp: 10_000,
      friendRequestsPerHour: 10_000,
      ...overrides.limits,
    },
    ws: { ...DEFAULT_WS_SETTINGS, ...overrides.ws },
    presence: overrides.presence ?? presenceSettings(20_000),
    turn: overrides.turn ?? {
      stunUrls: [],
      turnUrls: [],
      secret: undefined,
      ttlSeconds: 3600,
      transportPolicy: 'all',
    },
  };
}
