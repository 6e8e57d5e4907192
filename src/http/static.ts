/**
 * Static files of the game (CONTRACT §6.1): the frontend folder is read into memory once at
 * start-up, so a request never touches the disk and a path can only name a file that was found
 * inside the root (no traversal is possible: lookups are by key, never by joining paths).
 * GET and HEAD only; other methods fall through to the JSON 404. Each file has a strong ETag and
 * `Cache-Control: no-cache`, so browsers revalidate cheaply (304). Files changed on disk are
 * seen after a restart.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { writeHead } from './respond.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
};

const ALIASES: Record<string, string> = {
  '/': 'index.html',
  '/admin': 'admin.html',
  '/admin/login': 'admin-login.html',
  '/admin/logs': 'admin-logs.html',
  '/admin/active-sessions': 'admin-active-sessions.html',
  '/admin/high-scores': 'admin-high-scores.html',
  '/admin/notices': 'admin-notices.html',
  '/admin/game-settings': 'admin-game-settings.html',
};

/** Bounds on what is held in memory; a larger folder is a misconfiguration worth stopping on. */
export const STATIC_MAX_FILES = 20_000;
export const STATIC_MAX_BYTES = 256 * 1024 * 1024;

interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

export class StaticFiles {
  private readonly files = new Map<string, StaticFile>();
  bytes = 0;

  constructor(readonly root: string) {
    this.walk(root);
  }

  get count(): number {
    return this.files.size;
  }

  private walk(dir: string): void {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        this.walk(path);
      } else if (entry.isFile() || (entry.isSymbolicLink() && statSync(path).isFile())) {
        const body = readFileSync(path);
        this.bytes += body.byteLength;
        if (this.files.size >= STATIC_MAX_FILES || this.bytes > STATIC_MAX_BYTES) {
          throw new Error(`static folder ${this.root} is too large (max ${STATIC_MAX_FILES} files, ${STATIC_MAX_BYTES} bytes)`);
        }
        const key = relative(this.root, path).split(sep).join('/');
        const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
        this.files.set(key, { body, contentType: CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream', etag });
      }
    }
  }

  /** The file for a raw URL path (not percent-decoded, query already removed), if any. */
  lookup(urlPath: string): StaticFile | undefined {
    const key = ALIASES[urlPath] ?? urlPath.replace(/^\/+/, '');
    return this.files.get(key);
  }

  /** Serves the request if it names a file; returns false to let the caller answer 404. */
  serve(res: HttpResponse, req: HttpRequest): boolean {
    const method = req.getMethod();
    if (method !== 'get' && method !== 'head') return false;
    const file = this.lookup(req.getUrl());
    if (file === undefined) return false;
    const cacheHeaders = [
      ['ETag', file.etag],
      ['Cache-Control', 'no-cache'],
    ] as const;
    if (req.getHeader('if-none-match') === file.etag) {
      writeHead(res, 304, cacheHeaders);
      res.endWithoutBody(0);
      return true;
    }
    writeHead(res, 200, [...cacheHeaders, ['Content-Type', file.contentType]]);
    // uWS never completes endWithoutBody(n) for n > 0 (the process aborts), so the length is written here.
    if (method === 'head') res.writeHeader('Content-Length', String(file.body.byteLength)).endWithoutBody();
    else res.end(file.body);
    return true;
  }
}
