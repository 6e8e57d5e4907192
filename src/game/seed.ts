/**
 * Randomness for seeds and ids: unguessable (node:crypto), drawn from a pooled buffer refilled
 * 4 KiB at a time, so a request costs a copy rather than a call into the CSPRNG per id. The only
 * impure code of src/game; level.ts must never import it, so levels stay a pure function of
 * their seed.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** `bytes` fresh random bytes (at most POOL_BYTES), never handed out twice. */
function take(bytes: number): Buffer {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + bytes);
  offset += bytes;
  return out;
}

/** `bytes` random bytes as base64url text (used for session and artifact ids). */
export function randomToken(bytes: number): string {
  return take(bytes).toString('base64url');
}

/** A fresh level seed: 16 random bytes as lower-case hex, opaque and unguessable. */
export function newSeed(): string {
  return take(16).toString('hex');
}
