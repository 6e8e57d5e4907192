/**
 * The one door through which the hot state tells persistence what changed. Every mutation of
 * src/state calls exactly one of these per touched entity, right after changing it; the
 * write-behind queue coalesces per key and keeps a reference to the live record, so the batch
 * carries the entity's latest state when it is cut.
 *
 * Each call returns the seq of the batch that will hold the change: the answer to the client is
 * durable once `durableSeq >= seq`.
 */
import type {
  HighScoreRecord,
  LevelRecord,
  NoticeRecord,
  SessionRecord,
  SettingRecord,
  StatsRecord,
} from '../model/protocol.js';

export interface DirtySink {
  /** `level` is passed once, when the session is created. */
  session(record: SessionRecord, level?: LevelRecord): number;
  stats(record: StatsRecord): number;
  highScore(record: HighScoreRecord): number;
  notice(record: NoticeRecord): number;
  setting(record: SettingRecord): number;
}
