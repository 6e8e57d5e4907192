/**
 * The Origin check for admin writes (CONTRACT-ADMIN decision Q13): a state-changing request whose
 * `Origin` header is present and names another site (or is the opaque "null") is refused. Browsers
 * send Origin on every cross-origin and same-origin POST/PUT/PATCH/DELETE made with fetch, so the
 * admin pages pass and a page on a sibling subdomain does not. Requests without Origin (curl,
 * scripts) pass: they carry no ambient browser cookie to abuse. `Referer` is never used: the pages
 * are served with `Referrer-Policy: no-referrer`.
 */
export const CROSS_ORIGIN_REFUSED = 'Cross-origin request refused';

const WRITE_METHODS: ReadonlySet<string> = new Set(['post', 'put', 'patch', 'delete']);

export function isWriteMethod(method: string): boolean {
  return WRITE_METHODS.has(method.toLowerCase());
}

/**
 * True when `origin` (the header; '' = absent) is this site: its host[:port] equals the Host the
 * request was sent to (`hosts`: the Host header, and X-Forwarded-Host when a trusted proxy sets it).
 * The scheme is not compared: a TLS-terminating proxy talks plain HTTP to us.
 */
export function sameOrigin(origin: string, hosts: readonly string[]): boolean {
  if (origin === '') return true;
  let host: string;
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    host = url.host.toLowerCase();
  } catch {
    return false; // "null" and garbage
  }
  return hosts.some((h) => h !== '' && normaliseHost(h) === host);
}

function normaliseHost(host: string): string {
  const h = host.trim().toLowerCase();
  // new URL() drops a default port; drop it here too so "example.com:443" matches "https://example.com".
  return h.replace(/:(80|443)$/, '');
}
