/**
 * Contract tests over real HTTP: serving the game's files (CONTRACT §6.1, decision #21) from a
 * fixture folder: content types, aliases, HEAD, 404s, GET/HEAD only, no path traversal, ETags.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, runChildToExit, startChild, tempDir } from './helpers/child-server.js';
import { afterHeadAnswer, Client, expectError, expectJson, expectSecurityHeaders, rawRequest, SECURITY_HEADERS, SEQ_HEADER } from './helpers/http.js';

const dir = tempDir('vibefixer-http-static-');
const root = join(dir.dir, 'frontend');
let server: ChildServer;
let api: Client;

/** Fixture files: path inside the static folder → content. */
const FILES: Record<string, string | Buffer> = {
  'index.html': '<!doctype html><title>VibeFixer</title>',
  'src/app.js': 'export const app = 1;\n',
  'a.css': 'body { color: red }\n',
  'x.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3]),
  's.ogg': Buffer.from('OggS-fixture'),
  's.wav': Buffer.from('RIFF-fixture'),
  's.mp3': Buffer.from('ID3-fixture'),
  'j.jpg': Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2]),
  'k.jpeg': Buffer.from([0xff, 0xd8, 0xff, 0xe1, 3, 4]),
  'License.txt': 'CC0 fixture licence\n',
  'admin.html': '<!doctype html><title>admin</title>',
  'admin-login.html': '<!doctype html><title>admin login</title>',
  'assets/kenney/Sprites/tile.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 9, 9]),
};

const SECRET = 'top secret outside the static folder';

beforeAll(async () => {
  for (const [name, content] of Object.entries(FILES)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  // Files next to the static folder that traversal would reach.
  writeFileSync(join(dir.dir, 'secret.txt'), SECRET);
  writeFileSync(join(dir.dir, 'package.json'), SECRET);
  // Symlinks: to a file outside, dangling, to a directory outside, and to a file inside.
  symlinkSync(join(dir.dir, 'secret.txt'), join(root, 'leak.txt'));
  symlinkSync('../../secret.txt', join(root, 'src', 'relative-leak.js'));
  symlinkSync(join(dir.dir, 'nowhere.js'), join(root, 'dangling.js'));
  symlinkSync(dir.dir, join(root, 'outside-dir'));
  symlinkSync('a.css', join(root, 'inside-link.css'));
  server = await startChild({ VIBEFIXER_DB_PATH: join(dir.dir, 'db.sqlite'), VIBEFIXER_STATIC_DIR: root });
  api = new Client(server.url);
});

afterAll(async () => {
  await server?.stop();
  dir.cleanup();
});

const body = (name: string) => Buffer.from(FILES[name]);

describe('symbolic links in the static folder', () => {
  it('never serves a file through a link that points outside the folder (absolute or relative)', async () => {
    for (const path of ['/leak.txt', '/src/relative-leak.js', '/outside-dir/secret.txt', '/outside-dir/package.json']) {
      const reply = await api.get(path);
      expectError(reply, 404, 'Not Found');
      expect(reply.text).not.toContain(SECRET);
    }
  });

  it('serves a link whose real path is a file inside the folder', async () => {
    const reply = await api.get('/inside-link.css');
    expect(reply.status).toBe(200);
    expect(reply.bytes).toEqual(body('a.css'));
  });

  it('starts despite a dangling link, and logs one static_skipped warning per skipped link', () => {
    const skipped = server.logs.filter((l) => l.event === 'static_skipped').map((l) => [String(l.path).slice(root.length), l.reason]);
    expect(skipped.sort()).toEqual(
      [
        ['/dangling.js', 'dangling symlink'],
        ['/leak.txt', 'outside the static folder'],
        ['/outside-dir', 'outside the static folder'],
        ['/src/relative-leak.js', 'outside the static folder'],
      ].sort(),
    );
    expect(server.logs.every((l) => l.level !== 40 || l.event === 'static_skipped')).toBe(true);
  });

  it('serves a folder that is itself reached through a symlink (a release switch), and still nothing outside it', async () => {
    const linked = join(dir.dir, 'current');
    symlinkSync(root, linked);
    const other = await startChild({ VIBEFIXER_DB_PATH: join(dir.dir, 'linked.sqlite'), VIBEFIXER_STATIC_DIR: linked });
    try {
      const client = new Client(other.url);
      expect((await client.get('/a.css')).bytes).toEqual(body('a.css'));
      expect((await client.get('/inside-link.css')).status).toBe(200);
      expectError(await client.get('/leak.txt'), 404, 'Not Found');
    } finally {
      await other.stop();
    }
  });

  it('refuses to start on a static folder that does not exist with one clear line, not a stack trace', async () => {
    const missing = join(dir.dir, 'no-such-folder');
    const result = await runChildToExit({ VIBEFIXER_DB_PATH: join(dir.dir, 'other.sqlite'), VIBEFIXER_STATIC_DIR: missing });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    const refused = result.logs.find((l) => l.event === 'startup_refused');
    expect(refused?.code).toBe('STATIC_DIR');
    expect(refused?.msg).toContain(`VIBEFIXER_STATIC_DIR ${missing} cannot be served`);
  });
});

describe('content types (§6.1)', () => {
  it.each([
    ['/index.html', 'index.html', 'text/html; charset=utf-8'],
    ['/src/app.js', 'src/app.js', 'text/javascript; charset=utf-8'],
    ['/a.css', 'a.css', 'text/css; charset=utf-8'],
    ['/x.png', 'x.png', 'image/png'],
    ['/j.jpg', 'j.jpg', 'image/jpeg'],
    ['/k.jpeg', 'k.jpeg', 'image/jpeg'],
    ['/s.ogg', 's.ogg', 'audio/ogg'],
    ['/s.wav', 's.wav', 'audio/wav'],
    ['/s.mp3', 's.mp3', 'audio/mpeg'],
    ['/License.txt', 'License.txt', 'application/octet-stream'],
    ['/assets/kenney/Sprites/tile.png', 'assets/kenney/Sprites/tile.png', 'image/png'],
  ])('serves %s whole with 200, Content-Type and Content-Length', async (p, name, type) => {
    const reply = await api.get(p);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe(type);
    expect(reply.headers.get('content-length')).toBe(String(body(name).byteLength));
    expect(reply.bytes.equals(body(name))).toBe(true);
    expectSecurityHeaders(reply.headers);
    expect(reply.headers.has(SEQ_HEADER)).toBe(false);
  });

  it('ignores the query string', async () => {
    const reply = await api.get('/src/app.js?v=0.78');
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(FILES['src/app.js']);
  });
});

describe('aliases', () => {
  it.each([
    ['/', 'index.html'],
    ['/admin', 'admin.html'],
    ['/admin/login', 'admin-login.html'],
  ])('serves %s as %s', async (p, name) => {
    const reply = await api.get(p);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(reply.text).toBe(FILES[name]);
    expectSecurityHeaders(reply.headers);
  });
});

describe('HEAD', () => {
  it.each(['/', '/src/app.js', '/x.png'])('answers HEAD %s with the GET headers, Content-Length included, and no body', async (p) => {
    const get = await api.get(p);
    const head = await api.request('HEAD', p);
    expect(head.status).toBe(200);
    expect(head.bytes.byteLength).toBe(0);
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(head.headers.get('content-length')).toBe(String(get.bytes.byteLength));
    expect(head.headers.get('etag')).toBe(get.headers.get('etag'));
    expectSecurityHeaders(head.headers);
  });

  it('keeps the server up: a HEAD for a file is answered and the next request still is', async () => {
    expect((await api.request('HEAD', '/a.css')).status).toBe(200);
    expectJson(await api.get('/health'), 200);
    expect(server.proc.exitCode).toBeNull();
    expect(server.proc.signalCode).toBeNull();
  });

  it('sends no body on the wire, so the next answer on the connection is intact', async () => {
    expect(await afterHeadAnswer(server.port, '/index.html')).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('answers HEAD for an unknown file with 404 and no body', async () => {
    const reply = await api.request('HEAD', '/missing.html');
    expect(reply.status).toBe(404);
    expect(reply.bytes.byteLength).toBe(0);
    expectSecurityHeaders(reply.headers);
  });
});

describe('404 as JSON', () => {
  it.each(['/missing.html', '/src', '/src/', '/admin/', '/assets', '/assets/kenney/', '/INDEX.HTML', '/src/app.js/', '/admin/logs'])(
    'answers GET %s with 404 {"error":"Not Found"}',
    async (p) => {
      expectError(await api.get(p), 404, 'Not Found');
    },
  );

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('answers %s /index.html with 404: only GET and HEAD serve files', async (method) => {
    expectError(await api.request(method, '/index.html', method === 'POST' ? { json: {} } : {}), 404, 'Not Found');
    expectError(await api.request(method, '/'), 404, 'Not Found');
  });
});

describe('path traversal', () => {
  it.each([
    '/../secret.txt',
    '/../package.json',
    '/%2e%2e/package.json',
    '/%2E%2E/secret.txt',
    '/..%2fsecret.txt',
    '/src/../../secret.txt',
    '/src/../../x',
    '/src/%2e%2e/%2e%2e/secret.txt',
    '//etc/passwd',
    '/..\\secret.txt',
    '/%2fetc%2fpasswd',
    '/./../secret.txt',
  ])('never serves anything outside the folder for %s', async (p) => {
    const reply = await rawRequest(server.port, 'GET', p);
    expect(reply.status).toBe(404);
    expect(reply.text).not.toContain(SECRET);
    expect(reply.text).not.toContain('root:');
    expect(JSON.parse(reply.text)).toStrictEqual({ error: 'Not Found' });
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(reply.headers[name]).toBe(value);
  });

  it('never serves the server\'s own files for a raw path reaching above the folder', async () => {
    for (const p of ['/../../package.json', '/../../../../../../etc/passwd', '/../../src/main.ts', '/../db.sqlite']) {
      const reply = await rawRequest(server.port, 'GET', p);
      expect(reply.status, p).toBe(404);
      expect(reply.text).toBe('{"error":"Not Found"}');
    }
  });
});

describe('caching', () => {
  it('sends an ETag and answers a matching If-None-Match with 304 and no body', async () => {
    const first = await api.get('/src/app.js');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^(W\/)?".+"$/);
    const again = await api.get('/src/app.js', { 'If-None-Match': etag! });
    expect(again.status).toBe(304);
    expect(again.bytes.byteLength).toBe(0);
    expect(again.headers.get('etag')).toBe(etag);
    expectSecurityHeaders(again.headers);
  });

  it('answers a stale If-None-Match with the whole file', async () => {
    const reply = await api.get('/src/app.js', { 'If-None-Match': '"not-the-etag"' });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(FILES['src/app.js']);
  });

  it('gives different files different ETags', async () => {
    const a = (await api.get('/index.html')).headers.get('etag');
    const b = (await api.get('/admin.html')).headers.get('etag');
    expect(a).not.toBe(b);
  });
});

describe('API routes keep precedence over static files', () => {
  it('answers the API even with a static folder configured', async () => {
    const reply = await api.get('/api/sessions/stats');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expectError(await api.get('/api/sessions'), 404, 'Not Found');
  });
});
