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
import { bearerCheck, UNAUTHORIZED } from './bearer.js';
import { INVALID_JSON, readJsonBody } from './body.js';
import { clientKey } from './client-key.js';
import { PendingAnswer } from './pending.js';
import { sendError, sendJson, writeHead } from './respond.js';
import type { StaticFiles } from './static.js';

export const SEQ_HEADER = 'X-Vibefixer-Seq';

export interface HttpDeps {
  dispatcher: Dispatcher;
  trustProxy: boolean;
  staticFiles: StaticFiles | null;
  health(): Record<string, unknown>;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Bearer token /metrics asks for; null = open. */
  metricsToken: string | null;
  onError(error: unknown, where: string): void;
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
    // when something uses it: the rate limiter, an idempotency key (scoped per client), the audit log.
    const retryHeader = method === 'post' ? req.getHeader('idempotency-key') : '';
    const key = method === 'post' && (d.limiter.enabled || retryHeader !== '' || d.audit !== undefined) ? clientKey(res, req, deps.trustProxy) : '';
    const pending = new PendingAnswer(res);
    const reply = (answer: Answer) => pending.answer((r) => writeAnswer(r, answer));
    try {
      const refused = admit(d, op, key, sessionId);
      if (refused !== null) return reply(refused);
      if (method === 'get') return complete(d, op, sessionId, null, reply);
      const retry = readRetryKey(retryHeader, key);
      if (retry !== undefined && 'status' in retry) return reply(retry);
      readJsonBody(res, (body) => {
        if (body.kind === 'tooLarge') return reply({ status: 413, body: { error: 'Payload too large' }, seq: null });
        if (body.kind === 'invalidJson') return reply({ status: 400, body: { error: INVALID_JSON }, seq: null });
        // A write whose answer will wait runs after this read: a request pipelined right behind it
        // cannot leave it applied but unanswered (pending.ts). Refusals are answered at once.
        try {
          complete(d, op, sessionId, body.value, reply, { client: key, retry }, (run) => pending.runSoon(guarded(run, pending, op)));
        } catch (error) {
          internalError(pending, error, op);
        }
      });
    } catch (error) {
      internalError(pending, error, op);
    }
  };

  /** `run` for a later turn: outside the route handler, an error must still become a 500. */
  const guarded = (run: () => void, pending: PendingAnswer, where: string) => () => {
    try {
      run();
    } catch (error) {
      internalError(pending, error, where);
    }
  };

  const internalError = (pending: PendingAnswer, error: unknown, where: string) => {
    deps.onError(error, where);
    pending.answer((r) => sendError(r, 500, 'Internal Server Error'));
  };

  app.any('/health', (res, req) => sendJson(res, 200, deps.health(), [], req.getMethod() === 'head'));
  const metricsAllowed = bearerCheck(deps.metricsToken);
  app.get('/metrics', (res, req) => {
    if (!metricsAllowed(req)) return sendError(res, 401, UNAUTHORIZED, [['WWW-Authenticate', 'Bearer realm="metrics"']]);
    const pending = new PendingAnswer(res);
    pending.hold();
    deps.metrics().then(
      (m) =>
        pending.answer((r) => {
          writeHead(r, 200, [['Content-Type', m.contentType]]);
          r.end(m.body);
        }),
      (error) => internalError(pending, error, 'metrics'),
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
