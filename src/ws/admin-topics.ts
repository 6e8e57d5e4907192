/**
 * The live admin topics (README "Topics"): only a connection opened with a live admin session
 * cookie (same origin) may follow them; any other subscribe is closed with 4403, and a connection
 * whose admin session ends (logout, expiry) is closed with 4401.
 *
 *   admin:sessions   first push {snapshot: true, sessions: [the /api/admin/sessions/active list]},
 *                    then {snapshot: false, sessions: [each session that changed, its latest view;
 *                    status "ended" = gone]}, at most one push per VIBEFIXER_STATS_PUSH_MS
 *   admin:logs       first push {snapshot: true, logs: [newest 200]}, then {snapshot: false, logs:
 *                    [new rows, newest first]} once per turn of the event loop
 *
 * Nothing is built for a topic nobody follows. Never: change the state, send a token.
 */
import type { AdminSessions } from '../admin/sessions.js';
import { type AuditLog, entryOf } from '../admin/audit.js';
import { activeSessions, activeSessionView } from '../admin/views.js';
import type { App } from '../http/server.js';
import type { SessionRecord } from '../model/records.js';
import type { AuditRow } from '../model/rows.js';
import type { HotState } from '../state/hot-state.js';
import { CLOSE_ADMIN_ONLY, CLOSE_ADMIN_SESSION_ENDED, REASON_ADMIN_ONLY, REASON_ADMIN_SESSION_ENDED } from './close-codes.js';
import { followed, publishBoth } from './publish.js';
import { closeWith, type Socket } from './socket.js';

export const ADMIN_TOPIC_PREFIX = 'admin:';
export const ADMIN_SESSIONS_TOPIC = 'admin:sessions';
export const ADMIN_LOGS_TOPIC = 'admin:logs';
export const ADMIN_TOPICS: ReadonlySet<string> = new Set([ADMIN_SESSIONS_TOPIC, ADMIN_LOGS_TOPIC]);
const TAIL_FIRST_PUSH = 200;

export interface AdminTopicDeps {
  state: HotState;
  sessions: AdminSessions;
  audit: AuditLog;
  pushMs: number;
  now(): number;
}

export class AdminTopics {
  private readonly changed = new Map<string, SessionRecord>();
  private readonly tail: AuditRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Connections with an admin session (whatever they follow), to close when it ends. */
  private readonly admins = new Set<Socket>();

  constructor(
    private readonly app: App,
    private readonly d: AdminTopicDeps,
  ) {}

  opened(ws: Socket): void {
    if (ws.getUserData().adminHash !== null) this.admins.add(ws);
  }

  closed(ws: Socket): void {
    this.admins.delete(ws);
  }

  /** True when `ws` may follow admin topics now; otherwise it has been closed with 4403. */
  allow(ws: Socket): boolean {
    const hash = ws.getUserData().adminHash;
    if (hash !== null && this.d.sessions.findByHash(hash, this.d.now()) !== null) return true;
    closeWith(ws, CLOSE_ADMIN_ONLY, REASON_ADMIN_ONLY);
    return false;
  }

  current(topic: string, deliver: (data: unknown) => void): void {
    if (topic === ADMIN_SESSIONS_TOPIC) deliver({ snapshot: true, sessions: activeSessions(this.d.state, this.d.now()) });
    else if (topic === ADMIN_LOGS_TOPIC) deliver({ snapshot: true, logs: this.d.audit.newest(TAIL_FIRST_PUSH) });
  }

  /** Admin sessions ended: their connections are closed (4401). */
  sessionsEnded(hashes: readonly string[]): void {
    const ended = new Set(hashes);
    for (const ws of [...this.admins]) {
      const hash = ws.getUserData().adminHash;
      if (hash !== null && ended.has(hash)) closeWith(ws, CLOSE_ADMIN_SESSION_ENDED, REASON_ADMIN_SESSION_ENDED);
    }
  }

  sessionChanged(record: SessionRecord): void {
    if (this.stopped || !this.followed(ADMIN_SESSIONS_TOPIC)) return;
    this.changed.set(record.id, record);
    if (this.timer !== null) return;
    this.timer = setTimeout(() => this.flushSessions(), this.d.pushMs);
    this.timer.unref();
  }

  logAppended(row: AuditRow): void {
    if (this.stopped || !this.followed(ADMIN_LOGS_TOPIC)) return;
    if (this.tail.length === 0) queueMicrotask(() => this.flushTail());
    this.tail.push(row);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.changed.clear();
    this.tail.length = 0;
  }

  private flushSessions(): void {
    this.timer = null;
    const nowMs = this.d.now();
    const sessions = [...this.changed.values()].map((s) => activeSessionView(s, nowMs));
    this.changed.clear();
    if (sessions.length > 0) this.publish(ADMIN_SESSIONS_TOPIC, { snapshot: false, sessions });
  }

  private flushTail(): void {
    const logs = this.tail.reverse().map(entryOf);
    this.tail.length = 0;
    if (logs.length > 0) this.publish(ADMIN_LOGS_TOPIC, { snapshot: false, logs });
  }

  private followed(topic: string): boolean {
    return followed(this.app, topic);
  }

  private publish(topic: string, data: unknown): void {
    if (!this.stopped) publishBoth(this.app, topic, data);
  }
}
