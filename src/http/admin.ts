/**
 * The HTTP transport of the admin console: every request under /api/admin/ is copied into an
 * AdminRequest (synchronously: uWS invalidates `req` on return) and handed to src/admin/console.ts,
 * which decides whether the body is read. Every answer carries `Cache-Control: no-store`
 * (CONTRACT-ADMIN decision Q17) besides the security headers, and a Content-Length.
 */
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { AdminAnswer, AdminRequest } from '../admin/answers.js';
import type { AdminConsole } from '../admin/console.js';
import { readJsonBody } from './body.js';
import { clientKey } from './client-key.js';
import { sendError, sendJson } from './respond.js';

export const ADMIN_NO_STORE: readonly [string, string] = ['Cache-Control', 'no-store'];

export interface AdminHttpDeps {
  console: AdminConsole;
  trustProxy: boolean;
  onError(error: unknown, where: string): void;
}

export function registerAdminRoutes(app: TemplatedApp, deps: AdminHttpDeps): void {
  app.any('/api/admin/*', (res: HttpResponse, req) => {
    const forwardedHost = deps.trustProxy ? req.getHeader('x-forwarded-host').split(',')[0].trim() : '';
    const request: AdminRequest = {
      method: req.getMethod(),
      path: req.getUrl(),
      query: req.getQuery() ?? '',
      cookie: req.getHeader('cookie'),
      origin: req.getHeader('origin'),
      hosts: forwardedHost === '' ? [req.getHeader('host')] : [req.getHeader('host'), forwardedHost],
      clientKey: clientKey(res, req, deps.trustProxy),
    };
    const head = request.method === 'head';
    let aborted = false;
    let answered = false;
    res.onAborted(() => {
      aborted = true;
    });
    const reply = (answer: AdminAnswer) => {
      if (aborted || answered) return;
      answered = true;
      res.cork(() => sendJson(res, answer.status, answer.body, [ADMIN_NO_STORE, ...(answer.headers ?? [])], head));
    };
    const internalError = (error: unknown) => {
      deps.onError(error, 'admin');
      if (aborted || answered) return;
      answered = true;
      res.cork(() => sendError(res, 500, 'Internal Server Error', [ADMIN_NO_STORE]));
    };
    const readBody = (then: Parameters<typeof readJsonBody>[1]) =>
      readJsonBody(res, (body) => {
        try {
          then(body);
        } catch (error) {
          internalError(error);
        }
      });
    try {
      deps.console.handle(request, readBody, reply);
    } catch (error) {
      internalError(error);
    }
  });
}
