/**
 * The audit and security log (CONTRACT-ADMIN §3.1.3, decisions Q1, Q5, Q6, Q11): one row per
 * security event (logins, lockouts, logouts, rate limits, validation failures, errors) and per admin
 * change, newest first for the console, bounded by a row cap and a retention in days. Each new row
 * goes to the ChangeSink (persisted write-behind), to stdout as a JSON log line, and to the live
 * tail (the `admin:logs` WebSocket topic).
 *
 * Never: keep a secret. Details are redacted by key before the row is built (any key that looks like
 * a password, secret, token, cookie, authorization or API key), and callers pass a session's short
 * hash, never its token.
 */
import type { AuditCategory, AuditRow, AuditSeverity } from '../model/rows.js';
import type { ChangeSink } from '../state/changes.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const REDACT = /password|secret|token|authorization|cookie|api[_-]?key/i;
/** CONTRACT-ADMIN §3.1.3: validation and auth failures in one clock minute that raise `security_alert`. */
export const ALERT_THRESHOLD = 10;

/** Where a request-bound event happened; each is "unknown" when there is no request. */
export interface EventContext {
  ip?: string;
  path?: string;
  method?: string;
}

export interface AuditEvent {
  eventType: string;
  category?: AuditCategory;
  severity: AuditSeverity;
  context?: EventContext;
  details?: Record<string, unknown>;
  /** Counts toward the security_alert threshold (validation and auth failures). */
  failure?: string;
}

export interface AuditEntry {
  timestamp: string;
  category: AuditCategory;
  severity: AuditSeverity;
  eventType: string;
  message: string;
  details: Record<string, unknown> | null;
}

export interface AuditFilter {
  startMs: number;
  endMs: number;
  category: AuditCategory | null;
  severity: AuditSeverity | null;
  /** Lower-cased; matched against the message, the details JSON and the event type. */
  q: string | null;
}

export interface AuditLogOptions {
  sink: ChangeSink;
  maxRows: number;
  retentionDays: number;
  /** One stdout line per row (the caller picks the level by severity). */
  print?(row: AuditRow, details: Record<string, unknown>): void;
}

function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = REDACT.test(k) ? '[REDACTED]' : redact(v, depth + 1);
  return out;
}

export function entryOf(row: AuditRow): AuditEntry {
  let details: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(row[6]);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) details = parsed as Record<string, unknown>;
  } catch {
    details = null;
  }
  return { timestamp: new Date(row[1]).toISOString(), category: row[2], severity: row[3], eventType: row[4], message: row[5], details };
}

export class AuditLog {
  /** Oldest first; the console reads it backwards. */
  private rows: AuditRow[] = [];
  private nextId = 1;
  private alertMinute = -1;
  private alertCount = 0;
  private alertedMinute = -1;
  /** The live tail: called with each new row. */
  onAppend: ((row: AuditRow) => void) | null = null;

  constructor(private readonly opts: AuditLogOptions) {}

  /** Rows from storage, oldest first (reload). */
  load(rows: readonly AuditRow[]): void {
    this.rows = [...rows];
    if (rows.length > 0) this.nextId = rows[rows.length - 1][0] + 1;
  }

  /** Appends one event; returns the seq at which its row is durable. */
  record(event: AuditEvent, nowMs: number): number {
    const category = event.category ?? 'security';
    const ctx = event.context ?? {};
    const details = redact({ ip: ctx.ip ?? 'unknown', path: ctx.path ?? 'unknown', method: ctx.method ?? 'unknown', ...event.details }) as Record<string, unknown>;
    const message = category === 'gameplay' ? `Gameplay event: ${event.eventType}` : `Security event: ${event.eventType}`;
    const seq = this.append([this.nextId++, nowMs, category, event.severity, event.eventType, message, JSON.stringify(details)], details);
    if (event.failure !== undefined) this.countFailure(event.failure, details, nowMs);
    return seq;
  }

  /** Newest first, at most `limit` (Infinity: every match, for the export). */
  query(filter: AuditFilter, limit: number): AuditEntry[] {
    const out: AuditEntry[] = [];
    for (let i = this.rows.length - 1; i >= 0 && out.length < limit; i--) {
      const r = this.rows[i];
      if (r[1] > filter.endMs) continue;
      if (r[1] < filter.startMs) break; // rows are in time order
      if (filter.category !== null && r[2] !== filter.category) continue;
      if (filter.severity !== null && r[3] !== filter.severity) continue;
      if (filter.q !== null && !r[5].toLowerCase().includes(filter.q) && !r[6].toLowerCase().includes(filter.q) && !r[4].toLowerCase().includes(filter.q)) continue;
      out.push(entryOf(r));
    }
    return out;
  }

  /** The newest `n` rows, newest first (first push of the live tail). */
  newest(n: number): AuditEntry[] {
    const out: AuditEntry[] = [];
    for (let i = this.rows.length - 1; i >= 0 && out.length < n; i--) out.push(entryOf(this.rows[i]));
    return out;
  }

  /** Drops rows past the retention (timer); storage applies the same rule on its side. */
  prune(nowMs: number): void {
    if (this.opts.retentionDays === 0) return;
    const cutoff = nowMs - this.opts.retentionDays * DAY_MS;
    let drop = 0;
    while (drop < this.rows.length && this.rows[drop][1] < cutoff) drop++;
    if (drop > 0) this.rows.splice(0, drop);
  }

  get size(): number {
    return this.rows.length;
  }

  private append(row: AuditRow, details: Record<string, unknown>): number {
    // Clock steps backwards must not break the time order the queries rely on.
    const last = this.rows[this.rows.length - 1];
    if (last !== undefined && row[1] < last[1]) row[1] = last[1];
    this.rows.push(row);
    if (this.rows.length > this.opts.maxRows) this.rows.splice(0, this.rows.length - this.opts.maxRows);
    this.opts.print?.(row, details);
    this.onAppend?.(row);
    return this.opts.sink.upsert('audit', row[0], row);
  }

  /** Decision Q5: validation and auth failures count toward one security_alert per clock minute. */
  private countFailure(failureType: string, details: Record<string, unknown>, nowMs: number): void {
    const minute = Math.floor(nowMs / 60_000);
    if (minute !== this.alertMinute) {
      this.alertMinute = minute;
      this.alertCount = 0;
    }
    this.alertCount += 1;
    if (this.alertCount < ALERT_THRESHOLD || this.alertedMinute === minute) return;
    this.alertedMinute = minute;
    const alertDetails = redact({
      ip: details.ip,
      path: details.path,
      method: details.method,
      alertType: 'failure_threshold',
      failureType,
      count: this.alertCount,
      threshold: ALERT_THRESHOLD,
      details: { reason: details.reason ?? null },
    }) as Record<string, unknown>;
    this.append([this.nextId++, nowMs, 'security', 'high', 'security_alert', 'Security alert: failure_threshold', JSON.stringify(alertDetails)], alertDetails);
  }
}
