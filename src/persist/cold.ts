/**
 * Sessions reloaded at start-up are "cold": the state holds only their id, start and duration
 * (enough for lookups, counts and the stale sweep) and their record stays in the file until a
 * request first uses the session. The loader reads those records from the worker; every id asked
 * for in one turn of the event loop goes in one task.
 *
 * Start-up then costs one small tuple per active session, whatever the sessions hold, and a
 * session nobody touches again is never read at all. A cold session has no pending change: only
 * a loaded (hot) record is ever changed and marked dirty.
 */
import type { Logger } from 'pino';
import type { ColdSessionRow, SessionRecord } from '../model/protocol.js';
import { decode } from '../model/protocol.js';
import type { WorkerClient } from './client.js';

export type { ColdSessionRow };

export function isCold(value: SessionRecord | ColdSessionRow): value is ColdSessionRow {
  return Array.isArray(value);
}

/** The rows of one reload page. */
export function rowsOfPage(page: ArrayBuffer): ColdSessionRow[] {
  return decode<ColdSessionRow[]>(page);
}

/** What a load found for one id: its record, or null (no active row, or a row that does not decode). */
export type Loaded = { ok: true; record: SessionRecord | null } | { ok: false; error: string };

export class ColdLoader {
  private waiting = new Map<string, Array<(loaded: Loaded) => void>>();
  private scheduled = false;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  /** Rows found undecodable on load (skipped and logged). */
  skipped = 0;

  constructor(
    private readonly client: Pick<WorkerClient, 'run'>,
    private readonly log: Logger,
    private readonly onSkipped: () => void = () => {},
  ) {}

  load(id: string, done: (loaded: Loaded) => void): void {
    const callbacks = this.waiting.get(id);
    if (callbacks) callbacks.push(done);
    else this.waiting.set(id, [done]);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.send());
    }
  }

  /** Resolves once no load is waiting or in flight (start-up waits for the stale ones). */
  idle(): Promise<void> {
    if (this.waiting.size === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private send(): void {
    this.scheduled = false;
    const batch = this.waiting;
    this.waiting = new Map();
    this.inFlight += 1;
    this.client.run({ kind: 'loadSessions', ids: [...batch.keys()] }).then((reply) => {
      this.inFlight -= 1;
      const answer = (id: string, loaded: Loaded) => {
        for (const done of batch.get(id) ?? []) done(loaded);
      };
      if (!reply.ok) {
        this.log.error({ event: 'session_load_failed', error: reply }, 'loading cold sessions failed');
        for (const id of batch.keys()) answer(id, { ok: false, error: reply.message });
      } else {
        for (const [id, bytes] of reply.records) answer(id, { ok: true, record: decode<SessionRecord>(bytes) });
        for (const id of reply.skippedIds) {
          this.skipped += 1;
          this.onSkipped();
          this.log.error({ event: 'session_row_skipped', sessionId: id }, 'a stored session does not decode; it is dropped from the active sessions');
          answer(id, { ok: true, record: null });
        }
        for (const id of reply.missingIds) answer(id, { ok: true, record: null });
      }
      if (this.waiting.size === 0 && this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
  }
}
