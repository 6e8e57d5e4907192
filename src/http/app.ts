/**
 * The HTTP routes on a uWebSockets.js app (CONTRACT §1). Route handlers only translate: they
 * copy what they need from `req` synchronously (uWS invalidates it after the first return),
 * attach `onAborted` before anything asynchronous, and hand the command to src/api/dispatch.
 * Answers written after an await are corked. No game rule and no SQL lives here.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { admit, complete, type Dispatcher, readRetryKey } from '../api/dispatch.js';
import type { Op } from '../api/commands.js';
import type { Answer } from '../state/answer.js';
import { readJsonBody } from './body.js';
import { clientKey } from './client-key.js';
import { sendError, sendJson, writeHead } from './respond.js';
import type { StaticFiles } from './static.js';

export const SEQ_HEADER = 'X-Vibefixer-Seq';

export interface HttpDeps {
  dispatcher: Dispatcher;
  trustProxy: boolean;
  staticFiles: StaticFiles | null;
  health(): Record<string, unknown>;
  metrics(): Promise<{ contentType: string; body: string }>;
  onError(error: unknown, where: string): void;
}

/** Tracks whether uWS has aborted the response; an aborted response must never be touched. */
interface Pending {
  aborted: boolean;
}

function watch(res: HttpResponse): Pending {
  const pending = { aborted: false };
  res.onAborted(() => {
    pending.aborted = true;
  });
  return pending;
}

function writeAnswer(res: HttpResponse, answer: Answer): void {
  const headers: Array<[string, string]> = [];
  if (answer.seq !== null) headers.push([SEQ_HEADER, String(answer.seq)]);
  if (answer.retryAfterS !== undefined) headers.push(['Retry-After', String(answer.retryAfterS)]);
  sendJson(res, answer.status, answer.body, headers);
}

export function registerRoutes(app: TemplatedApp, deps: HttpDeps): void {
  const d = deps.dispatcher;

  /** A command route: GETs run at once, POSTs read their body first. */
  const command = (op: Op, method: 'get' | 'post', withSession: boolean) => (res: HttpResponse, req: HttpRequest) => {
    const sessionId = withSession ? req.getParameter(0) : undefined;
    // Read synchronously (uWS invalidates req after this call). The client's address is read only
    // when something uses it: the rate limiter, or an idempotency key (scoped per client).
    const retryHeader = method === 'post' ? req.getHeader('idempotency-key') : '';
    const key = method === 'post' && (d.limiter.enabled || retryHeader !== '') ? clientKey(res, req, deps.trustProxy) : '';
    const pending = watch(res);
    const reply = (answer: Answer) => {
      if (!pending.aborted) res.cork(() => writeAnswer(res, answer));
    };
    try {
      const refused = admit(d, op, key, sessionId);
      if (refused !== null) return reply(refused);
      if (method === 'get') return complete(d, op, sessionId, null, reply);
      const retry = readRetryKey(retryHeader, key);
      if (retry !== undefined && 'status' in retry) return reply(retry);
      readJsonBody(res, (body) => {
        if (body.kind === 'tooLarge') return reply({ status: 413, body: { error: 'Payload too large' }, seq: null });
        if (body.kind === 'invalidJson') return reply({ status: 400, body: { error: 'Invalid JSON' }, seq: null });
        try {
          complete(d, op, sessionId, body.value, reply, retry);
        } catch (error) {
          internalError(res, pending, error, op);
        }
      });
    } catch (error) {
      internalError(res, pending, error, op);
    }
  };

  const internalError = (res: HttpResponse, pending: Pending, error: unknown, where: string) => {
    deps.onError(error, where);
    if (!pending.aborted) res.cork(() => sendError(res, 500, 'Internal Server Error'));
  };

  app.any('/health', (res, req) => sendJson(res, 200, deps.health(), [], req.getMethod() === 'head'));
  app.get('/metrics', (res) => {
    const pending = watch(res);
    deps.metrics().then(
      (m) => {
        if (pending.aborted) return;
        res.cork(() => {
          writeHead(res, 200, [['Content-Type', m.contentType]]);
          res.end(m.body);
        });
      },
      (error) => internalError(res, pending, error, 'metrics'),
    );
  });

  app.get('/api/system/stats', command('system.stats', 'get', false));
  app.get('/api/high-scores', command('highScores.list', 'get', false));
  app.post('/api/high-scores', command('highScores.add', 'post', false));
  app.get('/api/notices/active', command('notices.active', 'get', false));
  app.post('/api/sessions', command('session.create', 'post', false));
  app.get('/api/sessions/stats', command('stats.get', 'get', false));
  app.post('/api/sessions/:id/spawn', command('session.spawn', 'post', true));
  app.post('/api/sessions/:id/artifact-status', command('session.artifactStatus', 'post', true));
  app.post('/api/sessions/:id/deposit', command('session.deposit', 'post', true));
  app.post('/api/sessions/:id/end', command('session.end', 'post', true));

  // Everything else: a static file of the game, or the JSON 404 (wrong methods on API paths
  // land here too, as in the original: no 405).
  app.any('/*', (res, req) => {
    if (deps.staticFiles?.serve(res, req)) return;
    sendError(res, 404, 'Not Found', [], req.getMethod() === 'head');
  });
}
