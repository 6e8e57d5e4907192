/**
 * The background check of stored sessions: once the port is open, reads every active session's
 * record in small pages (storage order) and reports those that do not decode, so they are
 * dropped from the active sessions, counted and logged — without making start-up wait for a
 * read of every record. Small pages keep each task short: batches queue behind it in the worker.
 * A session used before the check reaches it is checked by its load (cold.ts) the same way.
 */
import type { Logger } from 'pino';
import type { CheckSessionsReply, TaskError } from '../model/protocol.js';
import type { WorkerClient } from './client.js';

export const CHECK_PAGE_ROWS = 500;

export interface CheckResult {
  checked: number;
  skipped: number;
  durationMs: number;
}

export async function checkStoredSessions(
  client: Pick<WorkerClient, 'run'>,
  opts: { onSkipped(id: string): void; log: Logger; stopped(): boolean },
): Promise<CheckResult> {
  const started = performance.now();
  let checked = 0;
  let skipped = 0;
  let after: number | null = null;
  do {
    const reply: CheckSessionsReply | TaskError = await client.run({ kind: 'checkSessions', after, limit: CHECK_PAGE_ROWS });
    if (!reply.ok) {
      opts.log.warn({ event: 'session_check_failed', error: reply }, 'checking stored sessions failed; will not retry until restart');
      break;
    }
    checked += reply.checked;
    for (const id of reply.skippedIds) {
      skipped += 1;
      opts.log.error({ event: 'session_row_skipped', sessionId: id }, 'a stored session does not decode; it is dropped from the active sessions');
      opts.onSkipped(id);
    }
    after = reply.nextAfter;
  } while (after !== null && !opts.stopped());
  const result = { checked, skipped, durationMs: performance.now() - started };
  opts.log.info({ event: 'session_check_done', ...result, durationMs: Math.round(result.durationMs) }, 'stored sessions checked');
  return result;
}
