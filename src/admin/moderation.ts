/**
 * High-score moderation and game settings (CONTRACT-ADMIN §3.4, §3.6, decision Q14): edit and delete
 * of the entries the player list shows (the newest 200, the ones held in memory), and the
 * `playerSpeedPercent` setting that new sessions copy. Error strings are the original's.
 */
import type { HighScoreRecord } from '../model/records.js';
import { highScoreRow, settingRow } from '../model/convert.js';
import { highScoreView } from '../state/catalog.js';
import { HIGH_SCORE_LIST_LIMIT, PLAYER_SPEED_SETTING } from '../state/hot-state.js';
import { done, error, fieldsOf, json, NOT_FOUND_ROW, type Outcome } from './answers.js';
import { type AdminCtx, audited } from './context.js';
import { logLimit } from './logs.js';

export const MAX_ADMIN_TAG_LENGTH = 40;
export const MAX_REMAINING_UNCHECKED = 9_999;
export const MIN_PLAYER_SPEED = 50;
export const MAX_PLAYER_SPEED = 150;

export function listScores(ctx: AdminCtx, query: string): Outcome {
  const limit = logLimit(new URLSearchParams(query).get('limit'), HIGH_SCORE_LIST_LIMIT, HIGH_SCORE_LIST_LIMIT);
  return done(json(200, { scores: ctx.state.highScores.slice(0, limit).map(highScoreView) }));
}

type Patch = Partial<Pick<HighScoreRecord, 'playerTag' | 'result' | 'remainingUnchecked'>>;

function readPatch(body: Record<string, unknown>): Patch | string {
  const patch: Patch = {};
  if (body.playerTag !== undefined) {
    const tag = typeof body.playerTag === 'string' ? body.playerTag.trim() : '';
    if (tag === '' || tag.length > MAX_ADMIN_TAG_LENGTH) return 'playerTag is invalid';
    patch.playerTag = tag;
  }
  if (body.result !== undefined) {
    const result = typeof body.result === 'string' ? body.result.toLowerCase() : '';
    if (result !== 'won' && result !== 'lost') return 'result must be won or lost';
    patch.result = result;
  }
  if (body.remainingUnchecked !== undefined && body.remainingUnchecked !== null) {
    const n = body.remainingUnchecked;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > MAX_REMAINING_UNCHECKED) return 'remainingUnchecked is invalid';
    patch.remainingUnchecked = n;
  }
  return Object.keys(patch).length === 0 ? 'No fields to update' : patch;
}

/** The body is checked before the entry is looked up: validation errors come before 404. */
export function patchScore(ctx: AdminCtx, id: number, body: unknown): Outcome {
  const patch = readPatch(fieldsOf(body));
  if (typeof patch === 'string') return done(error(400, patch));
  const record = ctx.state.highScores.find((h) => h.id === id);
  if (record === undefined) return done(error(404, NOT_FOUND_ROW));
  Object.assign(record, patch);
  const seq = ctx.sink.upsert('highScores', id, highScoreRow(record));
  return done(json(200, { score: highScoreView(record) }), audited(ctx, seq, 'admin_high_score_updated', { id, changed: patch }));
}

export function deleteScore(ctx: AdminCtx, id: number): Outcome {
  const index = ctx.state.highScores.findIndex((h) => h.id === id);
  if (index < 0) return done(error(404, NOT_FOUND_ROW));
  const [removed] = ctx.state.highScores.splice(index, 1);
  const seq = ctx.sink.delete('highScores', id);
  const details = { id, playerTag: removed.playerTag, result: removed.result, remainingUnchecked: removed.remainingUnchecked };
  return done(json(200, { ok: true }), audited(ctx, seq, 'admin_high_score_deleted', details));
}

export function getSettings(ctx: AdminCtx): Outcome {
  return done(json(200, { settings: { playerSpeedPercent: ctx.state.playerSpeedPercent() } }));
}

export function putSettings(ctx: AdminCtx, body: unknown): Outcome {
  const value = fieldsOf(body).playerSpeedPercent;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < MIN_PLAYER_SPEED || value > MAX_PLAYER_SPEED) {
    return done(error(400, 'playerSpeedPercent must be between 50 and 150'));
  }
  const previous = ctx.state.playerSpeedPercent();
  const record = { key: PLAYER_SPEED_SETTING, value, updatedAtMs: ctx.nowMs };
  ctx.state.settings.set(record.key, record);
  const seq = ctx.sink.upsert('settings', record.key, settingRow(record));
  const answer = json(200, { setting: { key: record.key, value, updatedAt: new Date(record.updatedAtMs).toISOString() } });
  return done(answer, audited(ctx, seq, 'admin_setting_updated', { key: record.key, from: previous, to: value }));
}
