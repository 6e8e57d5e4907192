/**
 * What an admin command works on: the hot state (high scores, notices, settings live there, shared
 * with the player API), the change port, the audit log, the time and the request's context for the
 * audit rows. Commands change the state, call the sink once per row, and record one audit event.
 */
import type { ChangeSink } from '../state/changes.js';
import type { HotState } from '../state/hot-state.js';
import type { AuditLog, EventContext } from './audit.js';

export interface AdminCtx {
  state: HotState;
  sink: ChangeSink;
  audit: AuditLog;
  nowMs: number;
  event: EventContext;
}

/** Records an admin change (decision Q6: security category, info) and returns the larger seq. */
export function audited(ctx: AdminCtx, seq: number, eventType: string, details: Record<string, unknown>): number {
  return Math.max(seq, ctx.audit.record({ eventType, severity: 'info', context: ctx.event, details }, ctx.nowMs));
}
