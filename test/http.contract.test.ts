/**
 * Contract tests over real HTTP: the conventions every answer shares (CONTRACT §0, §1.1, §1.2),
 * the JSON body parsing of §1.4 with the byte-counted limit of decision #15, the 404 fall-through
 * for unknown paths and wrong methods, /health, and the notices and settings read from storage.
 */
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NoticeRecord, SettingRecord } from '../src/model/protocol.js';
import { type ChildServer, startChild, tempDir } from './helpers/child-server.js';
import { operatorSql } from './helpers/storage.js';
import { afterHeadAnswer, Client, expectError, expectJson, expectSecurityHeaders, sleep, serverForFile } from './helpers/http.js';

let server: ChildServer;
let api: Client;
serverForFile('vibefixer-http-contract-', (s, a) => {
  server = s;
  api = a;
});

const LIMIT = 100 * 1024;

/** An ASCII JSON body of exactly `bytes` bytes whose only known field is an invalid duration. */
function asciiBody(bytes: number): string {
  const head = '{"requestedDurationSeconds":"30","pad":"';
  const tail = '"}';
  return head + 'a'.repeat(bytes - head.length - tail.length) + tail;
}

/** A JSON body with `chars` two-byte characters (é) in a padding field and an invalid duration. */
function twoByteBody(chars: number): string {
  return `{"requestedDurationSeconds":"30","pad":"${'é'.repeat(chars)}"}`;
}

/** Write endpoints, given one active session. */
function writePaths(sessionId: string): string[] {
  return [
    '/api/sessions',
    `/api/sessions/${sessionId}/spawn`,
    `/api/sessions/${sessionId}/artifact-status`,
    `/api/sessions/${sessionId}/deposit`,
    `/api/sessions/${sessionId}/end`,
    '/api/high-scores',
  ];
}

describe('JSON body parsing (§1.4)', () => {
  it.each(['{', '{"x":1,}', "{'x':1}", 'undefined', 'NaN', '{"x":1}}', 'won'])(
    'answers 400 "Invalid JSON" to the body %j on every write endpoint',
    async (raw) => {
      const sessionId = await api.createSession();
      for (const p of writePaths(sessionId)) expectError(await api.postRaw(p, raw), 400, 'Invalid JSON');
    },
  );

  it('answers 413 "Payload too large" on every write endpoint for a body over 102 400 bytes', async () => {
    const sessionId = await api.createSession();
    const body = asciiBody(LIMIT + 1);
    for (const p of writePaths(sessionId)) expectError(await api.postRaw(p, body), 413, 'Payload too large');
  });

  it('counts the limit in bytes: 60 000 two-byte characters (120 000 bytes) are too large', async () => {
    const body = twoByteBody(60_000);
    expect(body.length).toBeLessThan(LIMIT); // the original, counting characters, would accept it
    expect(Buffer.byteLength(body)).toBeGreaterThan(LIMIT);
    expectError(await api.postRaw('/api/sessions', body), 413, 'Payload too large');
  });

  it('lets exactly 102 400 bytes through to validation, and refuses 102 401', async () => {
    const exact = asciiBody(LIMIT);
    expect(Buffer.byteLength(exact)).toBe(LIMIT);
    expectError(await api.postRaw('/api/sessions', exact), 400, 'requestedDurationSeconds must be between 10 and 600');
    expectError(await api.postRaw('/api/sessions', asciiBody(LIMIT + 1)), 413, 'Payload too large');
  });

  it('lets 100 KiB minus a little of ASCII through, and a large valid body succeeds', async () => {
    expectError(await api.postRaw('/api/sessions', asciiBody(LIMIT - 500)), 400, 'requestedDurationSeconds must be between 10 and 600');
    const valid = JSON.stringify({ requestedDurationSeconds: 42, pad: 'b'.repeat(LIMIT - 100) });
    const reply = await api.postRaw('/api/sessions', valid);
    expectJson(reply, 201);
    expect(reply.json.durationSeconds).toBe(42);
  });

  it('lets a multi-byte body of at most 102 400 bytes through', async () => {
    const body = twoByteBody(51_000);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(LIMIT);
    expectError(await api.postRaw('/api/sessions', body), 400, 'requestedDurationSeconds must be between 10 and 600');
  });

  it('answers 413 as soon as the limit is passed, without waiting for the rest of the upload', async () => {
    const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: server.port,
        method: 'POST',
        path: '/api/sessions',
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(10 * 1024 * 1024) },
        agent: false,
      });
      const timer = setTimeout(() => reject(new Error('no answer before the upload finished')), 5_000);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() });
          req.destroy();
        });
      });
      req.on('error', () => undefined); // the server may close the connection; the answer is what counts
      req.write('{"pad":"' + 'c'.repeat(200 * 1024)); // 200 KiB of a declared 10 MiB, then nothing
    });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.text)).toStrictEqual({ error: 'Payload too large' });
  });

  it('decodes a multi-byte character split across two network writes', async () => {
    const tag = 'é€😀日本';
    const body = Buffer.from(JSON.stringify({ playerTag: tag, result: 'won', remainingUnchecked: 0 }));
    const cut = body.indexOf(Buffer.from('😀')) + 2; // inside the four-byte emoji
    const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: '/api/high-scores',
          headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.byteLength) },
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.setNoDelay(true);
      req.write(body.subarray(0, cut));
      sleep(50).then(() => req.end(body.subarray(cut)));
    });
    expect(reply.status).toBe(201);
    expect(JSON.parse(reply.text).score.playerTag).toBe(tag);
  });
});

/** Writes `text` on a fresh connection and returns what comes back within `waitMs` (or at close). */
function exchange(text: string, waitMs = 1_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write(text));
    let received = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(received);
    };
    const timer = setTimeout(done, waitMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (/\r\n\r\n[\s\S]*\}$/.test(received)) done();
    });
    socket.on('error', done);
    socket.on('close', done);
  });
}

describe('robustness of the request path', () => {
  it('reads a chunked body, and applies the byte limit to it too', async () => {
    const small = JSON.stringify({ requestedDurationSeconds: 20 });
    const ok = await exchange(
      `POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n${small.length.toString(16)}\r\n${small}\r\n0\r\n\r\n`,
    );
    expect(ok).toMatch(/^HTTP\/1\.1 201 /);
    expect(ok).toContain('"durationSeconds":20');
    const big = asciiBody(LIMIT + 1000);
    const tooLarge = await exchange(
      `POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`,
    );
    expect(tooLarge).toMatch(/^HTTP\/1\.1 413 /);
    expect(tooLarge).toContain('{"error":"Payload too large"}');
  });

  it('survives clients that disconnect in the middle of a body', async () => {
    const sessionId = await api.createSession();
    for (const p of ['/api/sessions', `/api/sessions/${sessionId}/spawn`, '/api/high-scores']) {
      await exchange(`POST ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{"x":`, 50);
    }
    expectJson(await api.get('/health'), 200);
    expect(server.proc.exitCode).toBeNull();
    // The session is intact and nothing was half-applied.
    expectJson(await api.post(`/api/sessions/${sessionId}/spawn`, { x: 1, y: 2 }), 201);
  });

  it('ignores the query string on API paths', async () => {
    const sessionId = await api.createSession();
    expectJson(await api.post(`/api/sessions/${sessionId}/spawn?debug=1`, { x: 1, y: 2 }), 201);
    expectJson(await api.get('/api/sessions/stats?x=1'), 200);
  });

  it('treats -0 as a falsy duration (the default of 60)', async () => {
    const reply = await api.postRaw('/api/sessions', '{"requestedDurationSeconds":-0}');
    expectJson(reply, 201);
    expect(reply.json.durationSeconds).toBe(60);
  });

  it('refuses numbers JSON turns into Infinity (1e400) like any invalid number', async () => {
    const sessionId = await api.createSession();
    expectError(await api.postRaw(`/api/sessions/${sessionId}/spawn`, '{"x":1e400,"y":2}'), 400, 'x and y are required');
    expectError(await api.postRaw('/api/sessions', '{"requestedDurationSeconds":1e400}'), 400, 'requestedDurationSeconds must be between 10 and 600');
  });

  it.each(['/api/sessions/', '/api/sessions//spawn', '/api/high-scores/'])('answers POST %s (not an exact write path) with 404 "Not Found"', async (p) => {
    expectError(await api.post(p, { x: 1, y: 2 }), 404, 'Not Found');
  });
});

describe('404 fall-through (§1.1)', () => {
  it.each([
    ['GET', '/api/nope'],
    ['POST', '/api/nope'],
    ['GET', '/api'],
    ['GET', '/'],
    ['GET', '/index.html'],
    ['GET', '/api/sessions/abc'],
    ['POST', '/api/sessions/abc'],
    ['POST', '/api/sessions/abc/explode'],
    // Known admin paths answer 503/401 (test/admin.*); unknown ones fall through without an auth check.
    ['GET', '/api/admin/nothing'],
  ])('answers %s %s with 404 {"error":"Not Found"} as JSON', async (method, p) => {
    expectError(await api.request(method, p), 404, 'Not Found');
  });

  it.each([
    ['GET', '/api/sessions'],
    ['PUT', '/api/sessions'],
    ['DELETE', '/api/sessions'],
    ['POST', '/api/sessions/stats'],
    ['POST', '/api/notices/active'],
    ['POST', '/api/system/stats'],
    ['PUT', '/api/high-scores'],
    ['DELETE', '/api/high-scores'],
    ['PATCH', '/api/high-scores'],
    ['OPTIONS', '/api/sessions'],
    ['OPTIONS', '/api/high-scores'],
  ])('answers the wrong method %s %s with 404 "Not Found", never 405', async (method, p) => {
    expectError(await api.request(method, p, method === 'GET' ? {} : { json: {} }), 404, 'Not Found');
  });

  it.each(['/api/sessions', '/api/sessions/stats', '/api/high-scores', '/api/notices/active', '/api/system/stats', '/api/sessions/x/end'])(
    'answers HEAD %s with 404, JSON headers and no body',
    async (p) => {
      const reply = await api.request('HEAD', p);
      expect(reply.status).toBe(404);
      expect(reply.headers.get('content-type')).toBe('application/json');
      expect(reply.bytes.byteLength).toBe(0);
      expectSecurityHeaders(reply.headers);
    },
  );

  it.each(['/api/sessions/stats', '/api/high-scores', '/nope'])(
    'sends no body on the wire for HEAD %s, so the next answer on the connection is intact',
    async (p) => {
      expect(await afterHeadAnswer(server.port, p)).toMatch(/^HTTP\/1\.1 200 /);
    },
  );

  it('does not create a session for a wrong-method request', async () => {
    const before = (await api.get('/api/sessions/stats')).json.startedCount;
    await api.request('PUT', '/api/sessions');
    await api.get('/api/sessions');
    expect((await api.get('/api/sessions/stats')).json.startedCount).toBe(before);
  });
});

describe('/health', () => {
  it.each(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('answers %s with 200 and status "ok"', async (method) => {
    const reply = await api.request(method, '/health', method === 'GET' ? {} : { raw: '{not json' });
    expectJson(reply, 200);
    expect(reply.json.status).toBe('ok');
  });

  it('sends no body on the wire for HEAD, so the next answer on the connection is intact', async () => {
    expect(await afterHeadAnswer(server.port, '/health')).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('answers HEAD with 200 and no body', async () => {
    const reply = await api.request('HEAD', '/health');
    expect(reply.status).toBe(200);
    expect(reply.bytes.byteLength).toBe(0);
    expectSecurityHeaders(reply.headers);
  });
});

describe('conventions shared by every answer (§0, §1.2)', () => {
  it('sends the five security headers and application/json on successes, client errors and 404s alike', async () => {
    const sessionId = await api.createSession();
    const replies = [
      await api.post('/api/sessions'),
      await api.post(`/api/sessions/${sessionId}/spawn`, { x: 1, y: 2 }),
      await api.get('/api/sessions/stats'),
      await api.get('/api/high-scores'),
      await api.get('/api/notices/active'),
      await api.get('/api/system/stats'),
      await api.post(`/api/sessions/${sessionId}/spawn`, {}),
      await api.postRaw('/api/sessions', '{'),
      await api.postRaw('/api/sessions', asciiBody(LIMIT + 1)),
      await api.post('/api/sessions/nope/end'),
      await api.get('/nope'),
    ];
    for (const reply of replies) expectJson(reply, reply.status);
    expect(replies.map((r) => r.status)).toStrictEqual([201, 201, 200, 200, 200, 200, 400, 400, 413, 404, 404]);
  });

  it('sends no CORS headers and no HSTS', async () => {
    const reply = await api.get('/api/sessions/stats', { Origin: 'https://elsewhere.example' });
    expect(reply.headers.has('access-control-allow-origin')).toBe(false);
    expect(reply.headers.has('strict-transport-security')).toBe(false);
  });

  it('ignores the request Content-Type: a JSON body sent as text/plain is still read', async () => {
    const reply = await api.postRaw('/api/sessions', JSON.stringify({ requestedDurationSeconds: 20 }), { 'Content-Type': 'text/plain' });
    expectJson(reply, 201);
    expect(reply.json.durationSeconds).toBe(20);
  });
});

describe('GET /api/notices/active', () => {
  it('answers 200 {"notices": []} when there are none', async () => {
    const reply = await api.get('/api/notices/active');
    expectJson(reply, 200);
    expect(reply.json).toStrictEqual({ notices: [] });
  });
});

describe('notices and settings kept in storage', () => {
  const own = tempDir('vibefixer-http-seeded-');
  const dbPath = join(own.dir, 'db.sqlite');
  let seeded: ChildServer;
  const now = Date.now();
  const iso = (offsetMs: number) => new Date(now + offsetMs).toISOString();
  const HOUR = 3_600_000;
  const title = 'A message from the basement troll';
  const notices: NoticeRecord[] = [
    { id: '0b7c5a52-8f0e-4c4e-9d7a-000000000003', title, message: 'current, later start', validFrom: iso(-1 * HOUR), validTo: iso(HOUR) },
    { id: '0b7c5a52-8f0e-4c4e-9d7a-000000000002', title, message: 'current, same start, id b', validFrom: iso(-2 * HOUR), validTo: iso(HOUR) },
    { id: '0b7c5a52-8f0e-4c4e-9d7a-000000000001', title, message: 'current, same start, id a', validFrom: iso(-2 * HOUR), validTo: iso(HOUR) },
    { id: '0b7c5a52-8f0e-4c4e-9d7a-000000000004', title, message: 'expired', validFrom: iso(-3 * HOUR), validTo: iso(-2 * HOUR) },
    { id: '0b7c5a52-8f0e-4c4e-9d7a-000000000005', title, message: 'future', validFrom: iso(HOUR), validTo: iso(2 * HOUR) },
  ];

  beforeAll(async () => {
    // A first start creates the schema; then the rows are written as an operator tool would.
    const first = await startChild({ VIBEFIXER_DB_PATH: dbPath });
    expect((await first.stop()).code).toBe(0);
    const db = await operatorSql(dbPath);
    for (const n of notices) {
      await db.run('INSERT INTO notices (id, title, message, valid_from, valid_to) VALUES (?, ?, ?, ?, ?)', [n.id, n.title, n.message, n.validFrom, n.validTo]);
    }
    const setting: SettingRecord = { key: 'playerSpeedPercent', value: 125, updatedAtMs: now };
    await db.run('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)', [setting.key, setting.value, setting.updatedAtMs]);
    await db.close();
    seeded = await startChild({ VIBEFIXER_DB_PATH: dbPath });
  });

  afterAll(async () => {
    await seeded?.stop();
    own.cleanup();
  });

  it('lists only the notices valid now, oldest validFrom first and then by id, with the five fields', async () => {
    const reply = await new Client(seeded.url).get('/api/notices/active');
    expectJson(reply, 200);
    expect(reply.json).toStrictEqual({ notices: [notices[2], notices[1], notices[0]] });
  });

  it('copies the stored playerSpeedPercent setting into new sessions', async () => {
    const reply = await new Client(seeded.url).post('/api/sessions');
    expectJson(reply, 201);
    expect(reply.json.playerSpeedPercent).toBe(125);
  });
});
