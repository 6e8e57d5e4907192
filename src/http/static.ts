/**
 * Static files of the game (CONTRACT §6.1): the frontend folder is read into memory once at
 * start-up, so a request never touches the disk and a path can only name a file that was found
 * inside the root (no traversal is possible: lookups are by key, never by joining paths).
 * A symbolic link is served only when its real path is a file inside the root's real path: a link
 * that points outside (a secret read through a link), a dangling link and a link to a directory
 * are skipped at start-up with a `static_skipped` warning, never followed later.
 * GET and HEAD only; other methods fall through to the JSON 404. Each file has a strong ETag and
 * `Cache-Control: no-cache`, so browsers revalidate cheaply (304). Files changed on disk are
 * seen after a restart.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
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

/** Why a directory entry is not served; the caller logs it. */
export type SkipReason = 'outside the static folder' | 'dangling symlink' | 'symlink to a directory' | 'not a regular file';

export class StaticFiles {
  private readonly files = new Map<string, StaticFile>();
  private readonly realRoot: string;
  bytes = 0;

  constructor(
    readonly root: string,
    private readonly onSkip: (path: string, reason: SkipReason) => void = () => undefined,
  ) {
    this.realRoot = realpathSync(root);
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
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        const real = this.realFile(path);
        if (real === null) continue;
        const body = readFileSync(real);
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

  /** The real path of a file inside the root, or null (reported through onSkip). */
  private realFile(path: string): string | null {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      this.onSkip(path, 'dangling symlink');
      return null;
    }
    const rel = relative(this.realRoot, real);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      this.onSkip(path, 'outside the static folder');
      return null;
    }
    const stat = statSync(real);
    if (!stat.isFile()) {
      this.onSkip(path, stat.isDirectory() ? 'symlink to a directory' : 'not a regular file');
      return null;
    }
    return real;
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
