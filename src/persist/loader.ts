/**
 * The session loader (it implements the state's port SessionLoader of src/state/session-store.ts
 * structurally; persistence never imports the state): reads the stored rows of
 * sessions that were reloaded at start-up and are used for the first time. Every id asked for in
 * one turn of the event loop goes to the worker in one task.
 *
 * Never: ask the worker for an id twice at once (the store shares one load per id), or turn a
 * storage failure into "no such session" (a failure is `{ok: false}`: the request gets a 503 and
 * the session stays as it is).
 */
import type { Logger } from 'pino';
import { sessionOfRows } from '../model/rows.js';
import type { SessionRecord } from '../model/records.js';
import type { WorkerClient } from './client.js';

/** What a load found: the session, null (no such active session), or a failure. */
export type LoadResult = { ok: true; session: SessionRecord | null } | { ok: false };

export class WorkerSessionLoader {
  private waiting = new Map<string, (result: LoadResult) => void>();
  private scheduled = false;

  constructor(
    private readonly client: Pick<WorkerClient, 'run'>,
    private readonly log: Logger,
  ) {}

  load(id: string, done: (result: LoadResult) => void): void {
    this.waiting.set(id, done);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.send());
    }
  }

  private send(): void {
    this.scheduled = false;
    const batch = this.waiting;
    this.waiting = new Map();
    this.client.run({ kind: 'loadSessions', ids: [...batch.keys()] }).then((reply) => {
      if (!reply.ok) {
        this.log.error({ event: 'session_load_failed', error: reply }, 'loading stored sessions failed');
        for (const done of batch.values()) done({ ok: false });
        return;
      }
      for (const [header, artifacts] of reply.sessions) batch.get(header[0])?.({ ok: true, session: sessionOfRows(header, artifacts) });
      for (const id of reply.missingIds) batch.get(id)?.({ ok: true, session: null });
    });
  }
}
