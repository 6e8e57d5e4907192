/**
 * Helpers for the contract tests over real HTTP (test/http.*.test.ts): a small client on global
 * fetch that sends what the game's request helper sends (`Content-Type: application/json` on
 * every POST), a raw client for paths that fetch would normalise (`/../x`, `//x`), and the
 * assertions every answer shares (security headers, JSON envelope, Content-Length).
 */
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { type ChildServer, startChild, tempDir } from './child-server.js';

/** CONTRACT §1.2, exact values. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; media-src 'self'; script-src 'self'; " +
    "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com; connect-src 'self'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

export const SEQ_HEADER = 'x-vibefixer-seq';

/** ISO-8601 UTC with milliseconds and a trailing Z (CONTRACT §0). */
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface Reply {
  status: number;
  headers: Headers;
  /** The body as received (empty for HEAD and 304). */
  bytes: Buffer;
  text: string;
  /** The parsed body, or undefined when it is empty or not JSON. */
  json: any;
}

export interface SendOptions {
  /** Serialised with JSON.stringify. */
  json?: unknown;
  /** Sent as is (takes precedence over `json`). */
  raw?: string;
  headers?: Record<string, string>;
}

async function toReply(res: Response): Promise<Reply> {
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, bytes, text, json };
}

export class Client {
  constructor(readonly base: string) {}

  async request(method: string, path: string, options: SendOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.json !== undefined) body = JSON.stringify(options.json);
    if (method === 'POST' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = 'application/json';
    }
    return toReply(await fetch(this.base + path, { method, headers, body }));
  }

  get(path: string, headers?: Record<string, string>): Promise<Reply> {
    return this.request('GET', path, { headers });
  }

  /** A POST whose body is `json` serialised; no body at all when `json` is undefined. */
  post(path: string, json?: unknown, headers?: Record<string, string>): Promise<Reply> {
    return this.request('POST', path, { json, headers });
  }

  postRaw(path: string, raw: string, headers?: Record<string, string>): Promise<Reply> {
    return this.request('POST', path, { raw, headers });
  }

  /** Creates a session (no body, as the game does) and returns its id. */
  async createSession(json?: unknown): Promise<string> {
    const reply = await this.post('/api/sessions', json);
    expect(reply.status, reply.text).toBe(201);
    return reply.json.sessionId as string;
  }

  /** Spawns an artifact and returns its id. */
  async spawn(sessionId: string, x = 400, y = 218): Promise<string> {
    const reply = await this.post(`/api/sessions/${sessionId}/spawn`, { x, y });
    expect(reply.status, reply.text).toBe(201);
    return reply.json.artifact.id as string;
  }

  async setStatus(sessionId: string, artifactId: string, status: string): Promise<void> {
    const reply = await this.post(`/api/sessions/${sessionId}/artifact-status`, { artifactId, status });
    expect(reply.status, reply.text).toBe(200);
  }
}

/**
 * A request whose path is sent byte for byte (fetch and URL resolve `..` and collapse nothing
 * else, so traversal attempts need this). Resolves with status, headers and body.
 */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The five security headers of CONTRACT §1.2, with their exact values. */
export function expectSecurityHeaders(headers: Headers): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect(headers.get(name), name).toBe(value);
  }
}

/** A JSON API answer: the status, `application/json` (no charset), a true Content-Length, the security headers. */
export function expectJson(reply: Reply, status: number): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers.get('content-type')).toBe('application/json');
  expect(reply.headers.get('content-length')).toBe(String(reply.bytes.byteLength));
  expect(reply.json, `body is JSON: ${reply.text}`).not.toBeUndefined();
  expectSecurityHeaders(reply.headers);
}

/** The error envelope: exactly `{"error": message}` with the status, as JSON. */
export function expectError(reply: Reply, status: number, message: string): void {
  expectJson(reply, status);
  expect(reply.json).toStrictEqual({ error: message });
}

/** The X-Vibefixer-Seq header of an acknowledged change: a positive integer. */
export function seqOf(reply: Reply): number {
  const raw = reply.headers.get(SEQ_HEADER);
  expect(raw, `${SEQ_HEADER} on ${reply.status} ${reply.text}`).toMatch(/^[1-9]\d*$/);
  return Number(raw);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Sends `HEAD path` and then `GET /health` pipelined on one keep-alive connection and returns
 * what follows the HEAD answer's headers. A HEAD answer carries no content (RFC 9110 §9.3.2),
 * so the next bytes must be the GET's status line; a stray body would desynchronise the
 * connection for the next request.
 */
export function afterHeadAnswer(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`HEAD ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    });
    let received = '';
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const end = received.indexOf('\r\n\r\n');
      resolve(end < 0 ? '' : received.slice(end + 4));
    };
    const timer = setTimeout(finish, 2_000);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      // Done once the second answer (the GET /health) is complete.
      const second = received.indexOf('HTTP/1.1 ', 1);
      if (second > 0 && received.endsWith('}')) finish();
    });
    socket.on('error', reject);
  });
}

/**
 * One real server per test file, on its own fresh database: started before the file's tests and
 * stopped after them. `onReady` hands the server and a client to the file, again after `restart`.
 */
export function serverForFile(prefix: string, onReady: (server: ChildServer, api: Client) => void): { restart(): ReturnType<ChildServer['stop']> } {
  const dir = tempDir(prefix);
  const dbPath = join(dir.dir, 'db.sqlite');
  let current: ChildServer | undefined;
  const start = async () => {
    current = await startChild({ VIBEFIXER_DB_PATH: dbPath });
    onReady(current, new Client(current.url));
  };
  beforeAll(start);
  afterAll(async () => {
    await current?.stop();
    dir.cleanup();
  });
  return {
    async restart() {
      const stopped = await current!.stop();
      await start();
      return stopped;
    },
  };
}
