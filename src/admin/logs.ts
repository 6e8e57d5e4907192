/**
 * GET /api/admin/logs and /api/admin/logs/export (CONTRACT-ADMIN §3.1, decisions Q9, Q10, Q12):
 * query parsing in the original's order (range → category → severity), with 400 instead of the
 * original's 500 for a bad `start`/`end`, a fractional `limit` floored, and an export of every match
 * within retention (the list keeps its 1–500 limit).
 */
import type { AuditCategory, AuditSeverity } from '../model/rows.js';
import { type AdminAnswer, error, json } from './answers.js';
import type { AuditFilter, AuditLog } from './audit.js';

export const DEFAULT_LOG_LIMIT = 200;
export const MAX_LOG_LIMIT = 500;
const MAX_Q_LENGTH = 120;
const CATEGORIES: readonly AuditCategory[] = ['security', 'gameplay'];
const SEVERITIES: readonly AuditSeverity[] = ['info', 'low', 'medium', 'high'];

/** `new Date(text)` as the original parses it; null for an unparseable value. */
function instant(text: string): number | null {
  const ms = new Date(text).getTime();
  return Number.isFinite(ms) ? ms : null;
}

export function logLimit(raw: string | null, fallback: number, max: number): number {
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(1, Math.floor(n)));
}

type Parsed = { filter: AuditFilter; limit: number } | AdminAnswer;

function parse(query: string, nowMs: number): Parsed {
  const params = new URLSearchParams(query);
  const startRaw = params.get('start') ?? '';
  const endRaw = params.get('end') ?? '';
  const startMs = startRaw === '' ? 0 : instant(startRaw);
  if (startMs === null) return error(400, 'Invalid start');
  const endMs = endRaw === '' ? nowMs : instant(endRaw);
  if (endMs === null) return error(400, 'Invalid end');
  const category = (params.get('category') ?? '').toLowerCase();
  if (category !== '' && !CATEGORIES.includes(category as AuditCategory)) return error(400, 'Invalid category');
  const severity = (params.get('severity') ?? '').toLowerCase();
  if (severity !== '' && !SEVERITIES.includes(severity as AuditSeverity)) return error(400, 'Invalid severity');
  const q = (params.get('q') ?? '').slice(0, MAX_Q_LENGTH);
  return {
    filter: {
      startMs,
      endMs,
      category: category === '' ? null : (category as AuditCategory),
      severity: severity === '' ? null : (severity as AuditSeverity),
      q: q === '' ? null : q.toLowerCase(),
    },
    limit: logLimit(params.get('limit'), DEFAULT_LOG_LIMIT, MAX_LOG_LIMIT),
  };
}

function isAnswer(p: Parsed): p is AdminAnswer {
  return 'status' in p;
}

export function listLogs(audit: AuditLog, query: string, nowMs: number): AdminAnswer {
  const p = parse(query, nowMs);
  if (isAnswer(p)) return p;
  return json(200, {
    logs: audit.query(p.filter, p.limit),
    range: { start: new Date(p.filter.startMs).toISOString(), end: new Date(p.filter.endMs).toISOString() },
    limit: p.limit,
  });
}

export function exportLogs(audit: AuditLog, query: string, nowMs: number): AdminAnswer {
  const p = parse(query, nowMs);
  if (isAnswer(p)) return p;
  return json(200, { logs: audit.query(p.filter, Infinity) }, [['Content-Disposition', 'attachment; filename=admin-logs.json']]);
}
