import { describe, expect, it } from 'vitest';
import { hashPassword, verifyDummy, verifyPassword } from './passwords.js';

describe('passwords', () => {
  it('hashes with argon2id at m=19456 KiB, t=2, p=1 and salts every hash', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(a).not.toBe(b);
  });

  it('verifies the right password only', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(await verifyPassword(hash, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse batterY')).toBe(false);
  });

  it('treats an unreadable hash as a mismatch, not an error', async () => {
    expect(await verifyPassword('not-a-hash', 'whatever1')).toBe(false);
  });

  it('spends a real verification on the dummy path', async () => {
    await verifyDummy('warm up the dummy hash');
    const t = performance.now();
    expect(await verifyDummy('anything at all')).toBe(false);
    // argon2id with these parameters takes milliseconds, not microseconds.
    expect(performance.now() - t).toBeGreaterThan(2);
  });
});
