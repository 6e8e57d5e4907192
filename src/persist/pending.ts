/**
 * The changes gathered for the next batch, coalesced per key: one entry per entity, holding a
 * reference to its live record, so the batch carries each entity's latest state when it is cut.
 * A session's level (written once) is never dropped by a later change of the same session.
 */
import type {
  Batch,
  HighScoreRecord,
  LevelRecord,
  NoticeRecord,
  SessionEntry,
  SessionRecord,
  SettingRecord,
  StatsRecord,
} from '../model/protocol.js';

export class PendingChanges {
  private sessions = new Map<string, SessionEntry>();
  private stats: StatsRecord | null = null;
  private highScores = new Map<number, HighScoreRecord>();
  private notices = new Map<string, NoticeRecord>();
  private settings = new Map<string, SettingRecord>();
  /** Distinct entities gathered. */
  count = 0;
  /** When the first of them was gathered; null while empty. */
  sinceMs: number | null = null;

  // Each add returns true when the entity was not gathered yet (the count grew).

  addSession(record: SessionRecord, level: LevelRecord | undefined, nowMs: number): boolean {
    const entry = this.sessions.get(record.id);
    if (entry !== undefined) {
      entry.session = record;
      if (level) entry.level = level;
      return false;
    }
    this.sessions.set(record.id, level ? { session: record, level } : { session: record });
    return this.grew(nowMs);
  }

  addStats(record: StatsRecord, nowMs: number): boolean {
    const added = this.stats === null;
    this.stats = record;
    return added && this.grew(nowMs);
  }

  addHighScore(record: HighScoreRecord, nowMs: number): boolean {
    return this.put(this.highScores, record.id, record, nowMs);
  }

  addNotice(record: NoticeRecord, nowMs: number): boolean {
    return this.put(this.notices, record.id, record, nowMs);
  }

  addSetting(record: SettingRecord, nowMs: number): boolean {
    return this.put(this.settings, record.key, record, nowMs);
  }

  /** Everything gathered, as the batch with this seq; leaves this empty. */
  cut(seq: number): Batch {
    const batch: Batch = {
      seq,
      sessions: [...this.sessions.values()],
      stats: this.stats,
      highScores: [...this.highScores.values()],
      notices: [...this.notices.values()],
      settings: [...this.settings.values()],
    };
    this.sessions = new Map();
    this.stats = null;
    this.highScores = new Map();
    this.notices = new Map();
    this.settings = new Map();
    this.count = 0;
    this.sinceMs = null;
    return batch;
  }

  private put<K, V>(map: Map<K, V>, key: K, value: V, nowMs: number): boolean {
    const added = !map.has(key);
    map.set(key, value);
    return added && this.grew(nowMs);
  }

  private grew(nowMs: number): true {
    this.count += 1;
    this.sinceMs ??= nowMs;
    return true;
  }
}
