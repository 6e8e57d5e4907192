/**
 * Helpers for the admin console tests: a node:http client that sends exactly the headers given
 * (fetch refuses or rewrites Cookie, Origin and Host), a login that returns the cookie, and the
 * checks every admin answer shares (JSON envelope, Content-Length, security headers, no-store).
 */
import http from 'node:http';
import { expect } from 'vitest';
import { SECURITY_HEADERS } from './http.js';

export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 's3cret';

export interface AdminReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

export interface AdminSend {
  body?: unknown;
  raw?: string;
  cookie?: string;
  origin?: string;
  headers?: Record<string, string>;
}

export function adminRequest(port: number, method: string, path: string, send: AdminSend = {}): Promise<AdminReply> {
  const headers: Record<string, string> = { ...send.headers };
  let payload: string | undefined = send.raw;
  if (payload === undefined && send.body !== undefined) {
    payload = JSON.stringify(send.body);
    headers['Content-Type'] = 'application/json';
  }
  if (send.cookie !== undefined) headers.Cookie = send.cookie;
  if (send.origin !== undefined) headers.Origin = send.origin;
  if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The cookie pair (`name=value`) of a Set-Cookie header. */
export function cookiePair(reply: AdminReply): string {
  const set = reply.headers['set-cookie']?.[0] ?? '';
  return set.split(';')[0];
}

export async function login(port: number, headers: Record<string, string> = {}): Promise<string> {
  const reply = await adminRequest(port, 'POST', '/api/admin/login', { body: { username: ADMIN_USER, password: ADMIN_PASSWORD }, headers });
  expect(reply.status, reply.text).toBe(200);
  return cookiePair(reply);
}

/** An admin answer: status, JSON with a true Content-Length, the security headers and no-store. */
export function expectAdmin(reply: AdminReply, status: number, body?: unknown): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers['content-type']).toBe('application/json');
  expect(reply.headers['content-length']).toBe(String(Buffer.byteLength(reply.text)));
  expect(reply.headers['cache-control']).toBe('no-store');
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(reply.headers[name], name).toBe(value);
  if (body !== undefined) expect(reply.json).toStrictEqual(body);
}

export function expectAdminError(reply: AdminReply, status: number, message: string): void {
  expectAdmin(reply, status, { error: message });
}
