/**
 * End-to-end encryption for the server relay, with WebCrypto only: each side makes a fresh ECDH
 * P-256 key pair per relay session, the shared secret goes through HKDF-SHA-256 into one AES-256-GCM
 * key per direction, and every box carries a 96-bit nonce built from a per-direction counter, so a
 * nonce is never reused under a key. The receiver refuses a counter it has already seen (replay) and
 * anything that fails authentication (tampering): the server can drop boxes, not read or alter them.
 */

const INFO = 'parley-relay-v1';
const encoder = new TextEncoder();

export interface RelayKeyPair {
  privateKey: CryptoKey;
  /** Raw uncompressed P-256 point, base64: what travels in the `key` payload. */
  publicKey: string;
}

/** Who is who, bound into the keys so a box cannot be replayed into another session or direction. */
export interface RelayBinding {
  session: string;
  /** This side's connection id and the peer's. */
  self: string;
  peer: string;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** A fresh key pair for one relay session. */
export async function generateRelayKeyPair(): Promise<RelayKeyPair> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: toBase64(raw) };
}

/** The two directions' ciphers of one relay session. */
export class RelayCipher {
  readonly #sendKey: CryptoKey;
  readonly #receiveKey: CryptoKey;
  readonly #sendAad: Uint8Array<ArrayBuffer>;
  readonly #receiveAad: Uint8Array<ArrayBuffer>;
  #sendCounter = 0n;
  #lastReceived = -1n;

  private constructor(sendKey: CryptoKey, receiveKey: CryptoKey, binding: RelayBinding) {
    this.#sendKey = sendKey;
    this.#receiveKey = receiveKey;
    this.#sendAad = encoder.encode(`${INFO}|${binding.session}|${binding.self}>${binding.peer}`);
    this.#receiveAad = encoder.encode(`${INFO}|${binding.session}|${binding.peer}>${binding.self}`);
  }

  /** Derives the session's keys from our private key and the peer's public key (base64 raw). */
  static async derive(own: RelayKeyPair, peerPublicKey: string, binding: RelayBinding): Promise<RelayCipher> {
    const peerKey = await crypto.subtle.importKey(
      'raw',
      fromBase64(peerPublicKey),
      { name: 'ECDH', namedCurve: 'P-256' },
      false,
      [],
    );
    const shared = await crypto.subtle.deriveBits({ name: 'ECDH', public: peerKey }, own.privateKey, 256);
    const ikm = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
    // Both public keys, in a fixed order, are the salt: the keys belong to this exchange only.
    const [first, second] = [own.publicKey, peerPublicKey].sort();
    const salt = await crypto.subtle.digest(
      'SHA-256',
      encoder.encode(`${first}|${second}|${binding.session}`),
    );
    const directionKey = (from: string, to: string) =>
      crypto.subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt, info: encoder.encode(`${INFO}|${from}>${to}`) },
        ikm,
        { name: 'AES-GCM', length: 256 },
        false,
        ['encrypt', 'decrypt'],
      );
    const [sendKey, receiveKey] = await Promise.all([
      directionKey(binding.self, binding.peer),
      directionKey(binding.peer, binding.self),
    ]);
    return new RelayCipher(sendKey, receiveKey, binding);
  }

  /** Encrypts one message (text as UTF-8, or bytes); returns the base64 nonce and ciphertext for a `box`. */
  async seal(plaintext: string | Uint8Array<ArrayBuffer>): Promise<{ iv: string; data: string }> {
    const iv = nonce(this.#sendCounter);
    this.#sendCounter += 1n;
    const data = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: this.#sendAad },
      this.#sendKey,
      typeof plaintext === 'string' ? encoder.encode(plaintext) : plaintext,
    );
    return { iv: toBase64(iv), data: toBase64(new Uint8Array(data)) };
  }

  /** {@link openBytes}, decoded as UTF-8 text. */
  async open(box: { iv: string; data: string }): Promise<string | null> {
    const plain = await this.openBytes(box);
    return plain && new TextDecoder().decode(plain);
  }

  /**
   * Decrypts one box; `null` when it fails authentication, is malformed, or repeats (or precedes) a
   * counter already received. The relay delivers in order, so counters only go up.
   */
  async openBytes(box: { iv: string; data: string }): Promise<Uint8Array<ArrayBuffer> | null> {
    let iv: Uint8Array<ArrayBuffer>;
    let data: Uint8Array<ArrayBuffer>;
    try {
      iv = fromBase64(box.iv);
      data = fromBase64(box.data);
    } catch {
      return null;
    }
    if (iv.length !== 12) return null;
    const counter = new DataView(iv.buffer).getBigUint64(4);
    if (counter <= this.#lastReceived) return null;
    try {
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv, additionalData: this.#receiveAad },
        this.#receiveKey,
        data,
      );
      this.#lastReceived = counter;
      return new Uint8Array(plain);
    } catch {
      return null;
    }
  }
}

/** 4 zero bytes then a 64-bit big-endian counter. */
function nonce(counter: bigint): Uint8Array<ArrayBuffer> {
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setBigUint64(4, counter);
  return iv;
}
