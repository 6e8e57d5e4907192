/**
 * Admin password hashes: scrypt from node:crypto, in one self-describing text form that an operator
 * puts in ADMIN_PASSWORD_HASH (`npm run admin:hash` prints one):
 *
 *   scrypt$<N>$<r>$<p>$<salt, base64url>$<key, base64url>
 *
 * Verification runs scrypt on libuv's thread pool (never on the event loop) and compares the keys
 * with timingSafeEqual. Never: log, return or keep the password after the check.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

export interface ScryptHash {
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

/** Defaults for new hashes: N=2^15, r=8 (32 MiB, ~0.1 s on one core of these machines). */
export const SCRYPT_N = 32_768;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds what a configured hash may cost per login (memory = 128 · N · r bytes). */
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;

const FORM = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{22,})$/;

function memoryOf(n: number, r: number): number {
  return 128 * n * r;
}

/** The parsed hash, or why the text is not one (shown in the configuration error). */
export function parseScryptHash(text: string): ScryptHash | string {
  const m = FORM.exec(text);
  if (m === null) return 'is not scrypt$N$r$p$salt$key (make one with `npm run admin:hash`)';
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (n < 2 || (n & (n - 1)) !== 0) return 'has an N that is not a power of two';
  if (r < 1 || p < 1 || p > 16) return 'has r or p out of range';
  if (memoryOf(n, r) > MAX_MEMORY_BYTES) return 'needs more than 256 MiB per check (lower N or r)';
  const key = Buffer.from(m[5], 'base64url');
  if (key.length < 16) return 'has a key shorter than 16 bytes';
  return { n, r, p, salt: Buffer.from(m[4], 'base64url'), key };
}

/** A new hash of `password` in the text form above (the npm script's output). */
export function makeScryptHash(password: string, n = SCRYPT_N, r = SCRYPT_R, p = SCRYPT_P): string {
  const salt = randomBytes(SALT_BYTES);
  const key = scryptSync(password, salt, KEY_BYTES, { N: n, r, p, maxmem: memoryOf(n, r) * 2 });
  return `scrypt$${n}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Resolves true when `password` matches; the comparison takes the same time for any wrong key. */
export function verifyScrypt(hash: ScryptHash, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    scrypt(password, hash.salt, hash.key.length, { N: hash.n, r: hash.r, p: hash.p, maxmem: memoryOf(hash.n, hash.r) * 2 }, (error, key) => {
      resolve(error === null && timingSafeEqual(key, hash.key));
    });
  });
}
