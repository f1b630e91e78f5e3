import { describe, expect, it } from 'vitest';
import { isAllowedOrigin } from './origin.js';

describe('isAllowedOrigin', () => {
  const host = 'chat.example.com';

  it('allows the same host when no origins are configured', () => {
    expect(isAllowedOrigin({ host, origin: 'https://chat.example.com' }, [])).toBe(true);
    expect(isAllowedOrigin({ host: 'localhost:8080', origin: 'http://localhost:8080' }, [])).toBe(true);
  });

  it('refuses another host, a lookalike, "null" and garbage', () => {
    expect(isAllowedOrigin({ host, origin: 'https://evil.example' }, [])).toBe(false);
    expect(isAllowedOrigin({ host, origin: 'https://chat.example.com.evil.example' }, [])).toBe(false);
    expect(isAllowedOrigin({ host: 'localhost:8080', origin: 'http://localhost:8081' }, [])).toBe(false);
    expect(isAllowedOrigin({ host, origin: 'null' }, [])).toBe(false);
    expect(isAllowedOrigin({ host, origin: '::::' }, [])).toBe(false);
  });

  it('allows only the configured origins when some are', () => {
    const allowed = ['https://chat.example.com'];
    expect(isAllowedOrigin({ host: 'internal:8080', origin: 'https://chat.example.com' }, allowed)).toBe(
      true,
    );
    expect(isAllowedOrigin({ host: 'internal:8080', origin: 'http://chat.example.com' }, allowed)).toBe(
      false,
    );
    expect(isAllowedOrigin({ host: 'internal:8080', origin: 'http://internal:8080' }, allowed)).toBe(false);
  });

  it('lets requests without Origin pass unless the browser says cross-site', () => {
    expect(isAllowedOrigin({ host }, [])).toBe(true);
    expect(isAllowedOrigin({ host, 'sec-fetch-site': 'same-origin' }, [])).toBe(true);
    expect(isAllowedOrigin({ host, 'sec-fetch-site': 'cross-site' }, [])).toBe(false);
  });
});
