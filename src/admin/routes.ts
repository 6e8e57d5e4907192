/**
 * The routing of the cookie-guarded admin paths (CONTRACT-ADMIN §0.1, §3; decisions Q10, Q19), run
 * after the session check. Each route says whether it reads a body; the statuses for wrong methods
 * and sub-paths are the original's (404 `Not Found` versus 405 `Method not allowed`), except the
 * logs, which answer GET/HEAD on their two exact paths only.
 */
import { type AdminAnswer, done, error, json, METHOD_NOT_ALLOWED, NOT_FOUND_ROUTE, type Outcome } from './answers.js';
import type { AdminCtx } from './context.js';
import { exportLogs, listLogs } from './logs.js';
import { deleteScore, getSettings, listScores, patchScore, putSettings } from './moderation.js';
import { createNotice, deleteNotice, listNotices, updateNotice } from './notices.js';
import { activeSessions } from './views.js';

export const GUARDED_PREFIXES: readonly string[] = [
  '/api/admin/logs',
  '/api/admin/sessions/active',
  '/api/admin/high-scores',
  '/api/admin/notices',
  '/api/admin/game-settings',
];

export function isGuarded(path: string): boolean {
  return GUARDED_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/** A matched route: run at once (`body` false) or after the body is read. */
export interface Route {
  body: boolean;
  run(ctx: AdminCtx, body: unknown): Outcome;
}

const now = (run: (ctx: AdminCtx) => Outcome): Route => ({ body: false, run: (ctx) => run(ctx) });
const withBody = (run: (ctx: AdminCtx, body: unknown) => Outcome): Route => ({ body: true, run });
const fixed = (answer: AdminAnswer): Route => now(() => done(answer));

const notFound = fixed(error(404, NOT_FOUND_ROUTE));
const notAllowed = fixed(error(405, METHOD_NOT_ALLOWED));
const SCORE_ID = /^\/api\/admin\/high-scores\/(\d+)$/;
const NOTICE_ID = /^\/api\/admin\/notices\/(.+)$/;

/** The route for a guarded path; `query` is the raw query string. */
export function route(method: string, path: string, query: string): Route {
  const read = method === 'get' || method === 'head';
  if (path === '/api/admin/logs') return read ? now((c) => done(listLogs(c.audit, query, c.nowMs))) : notAllowed;
  if (path === '/api/admin/logs/export') return read ? now((c) => done(exportLogs(c.audit, query, c.nowMs))) : notAllowed;
  if (path.startsWith('/api/admin/logs')) return notFound;

  if (path.startsWith('/api/admin/sessions/active')) {
    return path === '/api/admin/sessions/active' && method === 'get' ? now((c) => done(json(200, { sessions: activeSessions(c.state, c.nowMs) }))) : notAllowed;
  }

  if (path.startsWith('/api/admin/high-scores')) {
    if (path === '/api/admin/high-scores') return method === 'get' ? now((c) => listScores(c, query)) : notFound;
    const m = SCORE_ID.exec(path);
    if (m === null) return notFound;
    const id = Number(m[1]);
    if (!Number.isFinite(id)) return fixed(error(400, 'Invalid id'));
    if (method === 'patch') return withBody((c, b) => patchScore(c, id, b));
    if (method === 'delete') return now((c) => deleteScore(c, id));
    return notAllowed;
  }

  if (path.startsWith('/api/admin/notices')) {
    if (path === '/api/admin/notices') {
      if (method === 'get') return now(listNotices);
      if (method === 'post') return withBody(createNotice);
      return notFound;
    }
    const m = NOTICE_ID.exec(path);
    if (m === null) return notFound;
    const id = m[1];
    if (method === 'patch') return withBody((c, b) => updateNotice(c, id, b));
    if (method === 'delete') return now((c) => deleteNotice(c, id));
    return notAllowed;
  }

  if (path === '/api/admin/game-settings') {
    if (method === 'get') return now(getSettings);
    if (method === 'put') return withBody(putSettings);
  }
  return path.startsWith('/api/admin/game-settings') ? notAllowed : notFound;
}
