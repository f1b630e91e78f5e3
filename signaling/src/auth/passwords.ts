/** Password hashing with argon2id (OWASP minimum: m=19456 KiB, t=2, p=1) via @node-rs/argon2. */
import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';

/** argon2id; the const enum cannot be imported under isolatedModules, its value is 2. */
const ARGON2ID = 2 as Algorithm;

export const ARGON2_OPTIONS: Options = {
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};

/** Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

/** Checks a password against a PHC string; `false` for a mismatch or an unreadable hash. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies against a dummy hash with the same parameters, so an unknown username costs the same time
 * as a wrong password and the two cannot be told apart by timing.
 */
export async function verifyDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword('parley-dummy-password-for-timing');
  await verifyPassword(await dummyHash, password);
  return false;
}
