/**
 * Writing HTTP answers. Every response carries the security headers of CONTRACT §1.2, API
 * bodies are JSON with `Content-Type: application/json` (uWS adds Content-Length). Callers that
 * answer after an await must wrap the call in `res.cork` and must not touch an aborted response.
 */
import type { HttpResponse } from 'uWebSockets.js';

export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  [
    'Content-Security-Policy',
    [
      "default-src 'self'",
      "img-src 'self' data:",
      "media-src 'self'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
      "font-src 'self' https://fonts.gstatic.com",
      "connect-src 'self'",
    ].join('; '),
  ],
  ['X-Frame-Options', 'DENY'],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['Permissions-Policy', 'camera=(), microphone=(), geolocation=()'],
];

const STATUS_LINES: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  304: '304 Not Modified',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  404: '404 Not Found',
  413: '413 Payload Too Large',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

export function statusLine(status: number): string {
  return STATUS_LINES[status] ?? `${status} Status`;
}

export type Headers = ReadonlyArray<readonly [string, string]>;

export function writeHead(res: HttpResponse, status: number, headers: Headers = []): void {
  res.writeStatus(statusLine(status));
  for (const [name, value] of SECURITY_HEADERS) res.writeHeader(name, value);
  for (const [name, value] of headers) res.writeHeader(name, value);
}

/**
 * Sends a JSON body; for a HEAD request (`head`), the same headers with the body's length and no
 * body, so a kept-alive connection is not left with stray bytes.
 */
export function sendJson(res: HttpResponse, status: number, body: unknown, headers: Headers = [], head = false): void {
  writeHead(res, status, headers);
  res.writeHeader('Content-Type', 'application/json');
  const json = JSON.stringify(body);
  if (head) res.writeHeader('Content-Length', String(Buffer.byteLength(json))).endWithoutBody();
  else res.end(json);
}

export function sendError(res: HttpResponse, status: number, error: string, headers: Headers = [], head = false): void {
  sendJson(res, status, { error }, headers, head);
}
