/**
 * Who a request is from, for the rate limit. Proxy headers are trusted only when the operator
 * says a proxy is in front (VIBEFIXER_TRUST_PROXY); otherwise anyone could pick a fresh key per
 * request and never be limited (the original's bug #7).
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

const decoder = new TextDecoder();

export function remoteAddress(res: HttpResponse): string {
  return decoder.decode(res.getRemoteAddressAsText());
}

/** Must be called synchronously inside the route handler (uWS invalidates `req` afterwards). */
export function clientKey(res: HttpResponse, req: HttpRequest, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.getHeader('x-forwarded-for').split(',')[0].trim();
    if (forwarded !== '') return forwarded;
    const realIp = req.getHeader('x-real-ip').trim();
    if (realIp !== '') return realIp;
  }
  return remoteAddress(res);
}
