/**
 * The admin session cookie (CONTRACT-ADMIN §1.2, §2.3): its name and attributes, in the original's
 * order, and a lenient parser. Decision Q8: a cookie value that cannot be percent-decoded is skipped,
 * so one stray cookie on the domain gives 401, never 500. Never: log a cookie value.
 */
export const ADMIN_COOKIE = 'vibefixer_admin_session';
const EPOCH_GMT = 'Thu, 01 Jan 1970 00:00:00 GMT';

/** The value of `name` in a Cookie header: the last occurrence wins; empty or undecodable = null. */
export function cookieValue(header: string, name: string = ADMIN_COOKIE): string | null {
  let found: string | null = null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      continue; // Q8: undecodable, as if absent
    }
    found = value === '' ? null : value;
  }
  return found;
}

function attributes(maxAgeS: number, expires: string, secure: boolean): string {
  return `; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}; Expires=${expires}${secure ? '; Secure' : ''}`;
}

/** Set-Cookie for a new session that ends at `expiresAtMs`. */
export function sessionCookie(token: string, ttlMs: number, expiresAtMs: number, secure: boolean): string {
  return `${ADMIN_COOKIE}=${encodeURIComponent(token)}${attributes(Math.floor(ttlMs / 1000), new Date(expiresAtMs).toUTCString(), secure)}`;
}

/** Set-Cookie that clears the session cookie (logout). */
export function clearingCookie(secure: boolean): string {
  return `${ADMIN_COOKIE}=${attributes(0, EPOCH_GMT, secure)}`;
}
