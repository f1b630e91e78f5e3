/**
 * A minimal TURN client (RFC 5766 Allocate over UDP with long-term credentials, RFC 5389 message
 * integrity), enough for tests to ask a real coturn whether it accepts a username and password.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';

const MAGIC_COOKIE = 0x2112a442;
const ALLOCATE_REQUEST = 0x0003;
const ALLOCATE_SUCCESS = 0x0103;
const ATTR = {
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  REALM: 0x0014,
  NONCE: 0x0015,
  REQUESTED_TRANSPORT: 0x0019,
} as const;

export type AllocateResult = { ok: true } | { ok: false; code: number; reason: string };

function attribute(type: number, value: Buffer): Buffer {
  const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  padded.writeUInt16BE(type, 0);
  padded.writeUInt16BE(value.length, 2);
  value.copy(padded, 4);
  return padded;
}

function message(type: number, transactionId: Buffer, attrs: Buffer[], integrityKey?: Buffer): Buffer {
  const body = Buffer.concat(attrs);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(header, 8);
  if (!integrityKey) {
    header.writeUInt16BE(body.length, 2);
    return Buffer.concat([header, body]);
  }
  // The length covers the MESSAGE-INTEGRITY attribute (24 bytes) that is computed over the rest.
  header.writeUInt16BE(body.length + 24, 2);
  const mac = createHmac('sha1', integrityKey)
    .update(Buffer.concat([header, body]))
    .digest();
  return Buffer.concat([header, body, attribute(ATTR.MESSAGE_INTEGRITY, mac)]);
}

function parse(buf: Buffer): { type: number; attrs: Map<number, Buffer> } {
  const attrs = new Map<number, Buffer>();
  let offset = 20;
  const end = 20 + buf.readUInt16BE(2);
  while (offset + 4 <= end) {
    const type = buf.readUInt16BE(offset);
    const length = buf.readUInt16BE(offset + 2);
    attrs.set(type, buf.subarray(offset + 4, offset + 4 + length));
    offset += 4 + Math.ceil(length / 4) * 4;
  }
  return { type: buf.readUInt16BE(0), attrs };
}

function errorOf(attrs: Map<number, Buffer>): { code: number; reason: string } {
  const value = attrs.get(ATTR.ERROR_CODE);
  if (!value) return { code: 0, reason: 'no ERROR-CODE' };
  return { code: (value[2]! & 0x7) * 100 + value[3]!, reason: value.subarray(4).toString('utf8') };
}

/** Asks the TURN server at 127.0.0.1:`port` for a UDP allocation with these credentials. */
export async function tryAllocate(port: number, username: string, password: string): Promise<AllocateResult> {
  const socket = createSocket('udp4');
  const exchange = (packet: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer from the TURN server')), 3_000);
      socket.once('message', (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      socket.send(packet, port, '127.0.0.1');
    });
  const transport = attribute(ATTR.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));
  try {
    // The first, unauthenticated request is answered with 401 and the realm and nonce to use.
    const challenge = parse(await exchange(message(ALLOCATE_REQUEST, randomBytes(12), [transport])));
    const realm = challenge.attrs.get(ATTR.REALM);
    const nonce = challenge.attrs.get(ATTR.NONCE);
    if (!realm || !nonce) return { ok: false, ...errorOf(challenge.attrs) };
    const key = createHash('md5')
      .update(`${username}:${realm.toString('utf8')}:${password}`)
      .digest();
    const reply = parse(
      await exchange(
        message(
          ALLOCATE_REQUEST,
          randomBytes(12),
          [
            transport,
            attribute(ATTR.USERNAME, Buffer.from(username)),
            attribute(ATTR.REALM, realm),
            attribute(ATTR.NONCE, nonce),
          ],
          key,
        ),
      ),
    );
    return reply.type === ALLOCATE_SUCCESS ? { ok: true } : { ok: false, ...errorOf(reply.attrs) };
  } finally {
    socket.close();
  }
}
