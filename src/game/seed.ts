/**
 * Makes a fresh level seed: 16 random bytes from node:crypto in base 36, opaque and unguessable.
 * The only impure function of src/game; level.ts must never import it, so levels stay a pure
 * function of their seed.
 */
import { randomBytes } from 'node:crypto';

export function newSeed(): string {
  return BigInt('0x' + randomBytes(16).toString('hex')).toString(36);
}
