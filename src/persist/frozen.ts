/**
 * Sessions reloaded at start-up stay "frozen" — the row the worker sent, with the stored record
 * bytes undecoded — until a request first touches them. Start-up then costs one small tuple per
 * session instead of decoding every artifact of every session (reload is bound by allocation,
 * not by SQLite), and a session nobody touches again is never decoded at all.
 */
import type { FrozenSessionRow, SessionRecord } from '../../workers/protocol.js';
import { decode } from '../../workers/protocol.js';

export type { FrozenSessionRow };

export function isFrozen(value: SessionRecord | FrozenSessionRow): value is FrozenSessionRow {
  return Array.isArray(value);
}

/** The rows of one reload page; each row's bytes stay a view into the page buffer. */
export function rowsOfPage(page: ArrayBuffer): FrozenSessionRow[] {
  return decode<FrozenSessionRow[]>(page);
}

/** Decodes the stored record (the worker checked at reload that it decodes to this id). */
export function thaw(row: FrozenSessionRow): SessionRecord {
  return decode<SessionRecord>(row[3]);
}
