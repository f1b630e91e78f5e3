import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies defaults to an empty environment (the embedded memory store)', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      redisUrl: undefined,
      publicOrigins: [],
      sessionTtlMs: 30 * 24 * 3600 * 1000,
      logLevel: 'info',
      trustProxy: 0,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      REDIS_URL: 'redis://localhost:6380/2',
      PUBLIC_ORIGIN: 'https://chat.example.com, http://localhost:5173',
      SESSION_TTL_DAYS: '7',
      LOG_LEVEL: 'debug',
      TRUST_PROXY: '1',
      STATIC_DIR: '/srv/parley',
    });
    expect(config).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      redisUrl: 'redis://localhost:6380/2',
      publicOrigins: ['https://chat.example.com', 'http://localhost:5173'],
      sessionTtlMs: 7 * 24 * 3600 * 1000,
      logLevel: 'debug',
      trustProxy: 1,
      staticDir: '/srv/parley',
    });
  });

  it('reads STUN and TURN settings', () => {
    const config = loadConfig({
      STUN_URLS: 'stun:turn.example.com:3478',
      TURN_URLS: 'turn:turn.example.com:3478?transport=udp, turns:turn.example.com:5349?transport=tcp',
      TURN_SECRET: 'a-long-random-shared-secret',
      TURN_TTL_SECONDS: '600',
      ICE_TRANSPORT_POLICY: 'relay',
    });
    expect(config.turn).toEqual({
      stunUrls: ['stun:turn.example.com:3478'],
      turnUrls: ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349?transport=tcp'],
      secret: 'a-long-random-shared-secret',
      ttlSeconds: 600,
      transportPolicy: 'relay',
    });
    expect(loadConfig({}).turn).toEqual({
      stunUrls: [],
      turnUrls: [],
      secret: undefined,
      ttlSeconds: 3600,
      transportPolicy: 'all',
    });
  });

  it('wants TURN_URLS and TURN_SECRET together', () => {
    expect(() => loadConfig({ TURN_URLS: 'turn:t.example.com:3478' })).toThrow(/TURN_URLS and TURN_SECRET/);
    expect(() => loadConfig({ TURN_SECRET: 'a-long-random-shared-secret' })).toThrow(
      /TURN_URLS and TURN_SECRET/,
    );
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', REDIS_URL: '' })).toMatchObject({ port: 8080, redisUrl: undefined });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['REDIS_URL', 'localhost:6379'],
    ['PUBLIC_ORIGIN', 'chat.example.com'],
    ['PUBLIC_ORIGIN', 'https://chat.example.com/app'],
    ['SESSION_TTL_DAYS', '0'],
    ['LOG_LEVEL', 'loud'],
    ['TRUST_PROXY', '-1'],
    ['TURN_URLS', 'http://turn.example.com'],
    ['STUN_URLS', 'turn:turn.example.com'],
    ['TURN_SECRET', 'short'],
    ['TURN_TTL_SECONDS', '5'],
  ])('names the bad variable %s=%s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}=`));
  });

  it('reports every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' })).toThrow(/PORT=[\s\S]*LOG_LEVEL=/);
  });
});
