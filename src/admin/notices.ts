/**
 * Notices (CONTRACT-ADMIN §3.5, decision Q15): list, create, full-replacement edit and delete. The
 * hot state's map is the one /api/notices/active reads, so a change is visible to players at once.
 * Dates: `new Date()` rules as in the original, stored as ISO; a present but unparseable validFrom is
 * refused (the original silently took "now"), and years outside 0000–9999 are refused so ISO strings
 * keep comparing in time order. Equal bounds are accepted (an instant window).
 */
import { randomUUID } from 'node:crypto';
import type { NoticeRecord } from '../model/records.js';
import { noticeRow } from '../model/convert.js';
import { done, error, fieldsOf, json, NOT_FOUND_ROW, type Outcome } from './answers.js';
import { type AdminCtx, audited } from './context.js';

export const NOTICE_TITLE = 'A message from the basement troll';
export const MAX_NOTICE_LENGTH = 240;
const ISO_4_DIGIT_YEAR = /^\d{4}-/;

/** The ISO form of a date string, or null: not a non-empty string, unparseable, or year out of 0000–9999. */
function isoDate(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  const ms = new Date(value).getTime();
  if (!Number.isFinite(ms)) return null;
  const iso = new Date(ms).toISOString();
  return ISO_4_DIGIT_YEAR.test(iso) ? iso : null;
}

function message(body: Record<string, unknown>): string | null {
  const text = typeof body.message === 'string' ? body.message.trim() : '';
  return text === '' || text.length > MAX_NOTICE_LENGTH ? null : text;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

export function noticeView(n: NoticeRecord): Record<string, unknown> {
  return { id: n.id, title: n.title, message: n.message, validFrom: n.validFrom, validTo: n.validTo, createdAt: iso(n.createdAtMs), updatedAt: iso(n.updatedAtMs) };
}

/** Every notice, past and future; latest start first, then by id descending (the original's order). */
export function listNotices(ctx: AdminCtx): Outcome {
  const list = [...ctx.state.notices.values()];
  list.sort((a, b) => (a.validFrom !== b.validFrom ? (a.validFrom < b.validFrom ? 1 : -1) : a.id < b.id ? 1 : -1));
  return done(json(200, { notices: list.map(noticeView) }));
}

export function createNotice(ctx: AdminCtx, raw: unknown): Outcome {
  const body = fieldsOf(raw);
  const text = message(body);
  if (text === null) return done(error(400, 'message is required'));
  let validFrom = new Date(ctx.nowMs).toISOString();
  if (body.validFrom !== undefined && body.validFrom !== null) {
    const from = isoDate(body.validFrom);
    if (from === null) return done(error(400, 'validFrom is invalid'));
    validFrom = from;
  }
  const validTo = isoDate(body.validTo);
  if (validTo === null) return done(error(400, 'validTo is required'));
  if (validTo < validFrom) return done(error(400, 'validTo must be after validFrom'));
  const notice: NoticeRecord = { id: randomUUID(), title: NOTICE_TITLE, message: text, validFrom, validTo, createdAtMs: ctx.nowMs, updatedAtMs: ctx.nowMs };
  ctx.state.notices.set(notice.id, notice);
  const seq = ctx.sink.upsert('notices', notice.id, noticeRow(notice));
  return done(json(201, { notice: noticeView(notice) }), audited(ctx, seq, 'admin_notice_created', { id: notice.id, message: text, validFrom, validTo }));
}

export function updateNotice(ctx: AdminCtx, id: string, raw: unknown): Outcome {
  const body = fieldsOf(raw);
  const text = message(body);
  if (text === null) return done(error(400, 'message is required'));
  const validFrom = isoDate(body.validFrom);
  const validTo = isoDate(body.validTo);
  if (validFrom === null || validTo === null) return done(error(400, 'validFrom and validTo are required'));
  if (validTo < validFrom) return done(error(400, 'validTo must be after validFrom'));
  const notice = ctx.state.notices.get(id);
  if (notice === undefined) return done(error(404, NOT_FOUND_ROW));
  Object.assign(notice, { message: text, validFrom, validTo, updatedAtMs: ctx.nowMs });
  const seq = ctx.sink.upsert('notices', id, noticeRow(notice));
  return done(json(200, { notice: noticeView(notice) }), audited(ctx, seq, 'admin_notice_updated', { id, message: text, validFrom, validTo }));
}

export function deleteNotice(ctx: AdminCtx, id: string): Outcome {
  const notice = ctx.state.notices.get(id);
  if (notice === undefined) return done(error(404, NOT_FOUND_ROW));
  ctx.state.notices.delete(id);
  const seq = ctx.sink.delete('notices', id);
  return done(json(200, { ok: true }), audited(ctx, seq, 'admin_notice_deleted', { id, message: notice.message }));
}
