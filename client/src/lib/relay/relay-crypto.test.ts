import { describe, expect, it } from 'vitest';
import { fromBase64, generateRelayKeyPair, RelayCipher, toBase64 } from './relay-crypto.js';

async function pair(session = 's1') {
  const [a, b] = await Promise.all([generateRelayKeyPair(), generateRelayKeyPair()]);
  const alice = await RelayCipher.derive(a, b.publicKey, { session, self: 'ca', peer: 'cb' });
  const bob = await RelayCipher.derive(b, a.publicKey, { session, self: 'cb', peer: 'ca' });
  return { alice, bob, a, b };
}

describe('relay crypto', () => {
  it('round-trips both ways and never shows the plaintext in the box', async () => {
    const { alice, bob } = await pair();
    const box = await alice.seal('meet me at noon');
    expect(box.data).not.toContain(toBase64(new TextEncoder().encode('meet me')));
    expect(atob(box.data)).not.toContain('meet me');
    expect(await bob.open(box)).toBe('meet me at noon');
    expect(await alice.open(await bob.seal('ok 👍'))).toBe('ok 👍');
  });

  it('round-trips bytes as they are, in one base64 encoding', async () => {
    const { alice, bob } = await pair();
    const bytes = new Uint8Array(3000).map((_, i) => (i * 31) & 0xff);
    const box = await alice.seal(bytes);
    // Ciphertext and its 16-byte tag, base64 once.
    expect(box.data.length).toBe(Math.ceil((bytes.length + 16) / 3) * 4);
    expect(await bob.openBytes(box)).toEqual(bytes);
    expect(await bob.openBytes(box)).toBeNull(); // replayed
  });

  it('uses a fresh nonce for every box', async () => {
    const { alice } = await pair();
    const ivs = new Set<string>();
    for (let i = 0; i < 50; i++) ivs.add((await alice.seal('same text')).iv);
    expect(ivs.size).toBe(50);
  });

  it('refuses a replayed or reordered box', async () => {
    const { alice, bob } = await pair();
    const first = await alice.seal('one');
    const second = await alice.seal('two');
    expect(await bob.open(second)).toBe('two');
    expect(await bob.open(first)).toBeNull();
    expect(await bob.open(second)).toBeNull();
  });

  it('refuses tampered ciphertext, nonce, or a box sealed for the other direction', async () => {
    const { alice, bob } = await pair();
    const box = await alice.seal('hello');
    const bytes = fromBase64(box.data);
    bytes[0] = bytes[0]! ^ 1;
    expect(await bob.open({ iv: box.iv, data: toBase64(bytes) })).toBeNull();
    const iv = fromBase64(box.iv);
    iv[11] = iv[11]! ^ 1;
    expect(await bob.open({ iv: toBase64(iv), data: box.data })).toBeNull();
    // Alice's own box reflected back to her does not open.
    expect(await alice.open(await alice.seal('mirror'))).toBeNull();
    expect(await bob.open({ iv: 'garbage!', data: box.data })).toBeNull();
  });

  it('binds keys to the session and the key exchange: another session or key pair cannot read it', async () => {
    const { alice, a, b } = await pair('s1');
    const box = await alice.seal('secret');
    const otherSession = await RelayCipher.derive(b, a.publicKey, { session: 's2', self: 'cb', peer: 'ca' });
    expect(await otherSession.open(box)).toBeNull();
    const mallory = await generateRelayKeyPair();
    const intruder = await RelayCipher.derive(mallory, a.publicKey, {
      session: 's1',
      self: 'cb',
      peer: 'ca',
    });
    expect(await intruder.open(box)).toBeNull();
  });
});
