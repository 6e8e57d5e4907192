/**
 * The bearer-token check of /metrics (VIBEFIXER_METRICS_TOKEN). Both sides are hashed before the
 * constant-time comparison, so neither the token's bytes nor its length leak through timing.
 * Must be called synchronously inside the route handler (uWS invalidates `req` afterwards).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpRequest } from 'uWebSockets.js';

export const UNAUTHORIZED = 'Unauthorized';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Returns a checker for `Authorization: Bearer <token>`; null token = everyone is allowed. */
export function bearerCheck(token: string | null): (req: HttpRequest) => boolean {
  if (token === null) return () => true;
  const expected = digest(token);
  return (req) => {
    const header = req.getHeader('authorization');
    const match = /^Bearer +(\S+) *$/i.exec(header);
    return match !== null && timingSafeEqual(digest(match[1]), expected);
  };
}
