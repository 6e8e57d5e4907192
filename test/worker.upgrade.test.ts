/**
 * Upgrade in place: a database written by an older release (schema 1–4, msgpack documents) is
 * migrated on open to typed rows (schema 5), and every session, artifact, level, counter, high
 * score, notice and setting comes out with the values it went in with. A document that does not
 * decode is kept, byte for byte, in migration_v5_skipped.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { handle } from '../workers/persist.js';
import { LATEST_SCHEMA_VERSION } from '../workers/sqlite/migrations.js';
import { type ColdSessionRow, decode } from '../src/model/protocol.js';
import { BROKEN_DOCUMENT, BROKEN_SESSION_ID, buildLegacyDb } from './fixtures/legacy-schema.js';
import {
  applyTask,
  batch,
  closeWorker,
  loadRecords,
  ok,
  openTask,
  readRows,
  session,
  stats,
  tempDbPath,
  removeTempDirs,
} from './worker.fixtures.js';

afterEach(closeWorker);
afterAll(removeTempDirs);

describe('persistence worker: upgrade in place from the msgpack documents', () => {
  for (const version of [1, 2, 3, 4] as const) {
    it(`converts a schema ${version} database: every session, artifact, level, counter, high score, notice and setting`, async () => {
      const dbPath = tempDbPath();
      const want = buildLegacyDb(dbPath, version);

      const opened = ok(await handle(openTask(dbPath)), 'open');
      expect(opened).toMatchObject({ created: false, migratedFrom: version, schemaVersion: LATEST_SCHEMA_VERSION, lastSeq: want.lastSeq, quarantinedTo: null });

      // --- the new tables, column by column --------------------------------------------------
      const sessionRows = await readRows(dbPath, 'SELECT * FROM sessions ORDER BY id');
      expect(sessionRows).toEqual(
        [...want.allSessions]
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .map((s) => ({
            id: s.id, status: s.status, seed: s.seed, started_at: s.startedAtMs, duration_seconds: s.durationSeconds,
            player_speed_percent: s.playerSpeedPercent, score: s.score, remaining_artifact_count: s.remainingArtifactCount,
            artifact_count: s.artifacts.length, ended_at: s.endedAtMs, end_reason: s.endReason, result: s.result,
          })),
      );
      const artifactRows = await readRows(dbPath, 'SELECT * FROM artifacts ORDER BY session_id, idx');
      expect(artifactRows).toEqual(
        [...want.allSessions]
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .flatMap((s) =>
            s.artifacts.map((a, idx) => ({
              session_id: s.id, idx, id: a.id, x: a.position.x, y: a.position.y, status: a.status,
              created_at: a.createdAtMs, updated_at: Math.max(a.createdAtMs, s.endedAtMs ?? s.startedAtMs),
            })),
          ),
      );
      expect(await readRows(dbPath, 'SELECT * FROM session_levels ORDER BY session_id')).toEqual(
        [...want.levels].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, l]) => ({
          session_id: id, trash_x: l.trashCan.position.x, trash_y: l.trashCan.position.y,
          trash_bounds_x: l.trashCan.bounds.x, trash_bounds_y: l.trashCan.bounds.y,
          trash_bounds_width: l.trashCan.bounds.width, trash_bounds_height: l.trashCan.bounds.height,
          // The document's terrain as the JSON text a new level gets (keys in answer order).
          terrain: JSON.stringify(l.terrain),
        })),
      );
      const s = want.stats;
      expect(await readRows(dbPath, 'SELECT * FROM stats')).toEqual([
        {
          id: 1, started_count: s.startedCount, ended_count: s.endedCount, stale_ended_count: s.staleEndedCount, won_count: s.wonCount,
          lost_count: s.lostCount, abandoned_count: s.abandonedCount, latest_completed_at: s.latestCompletedAtMs, latest_activity_at: s.latestActivityAtMs,
        },
      ]);
      expect(await readRows(dbPath, 'SELECT * FROM high_scores ORDER BY created_at DESC, id DESC')).toEqual(
        want.highScores.map((h) => ({ id: h.id, created_at: h.createdAtMs, player_tag: h.playerTag, result: h.result, remaining_unchecked: h.remainingUnchecked })),
      );
      expect(await readRows(dbPath, 'SELECT * FROM notices')).toEqual(
        want.notices.map((n) => ({ id: n.id, title: n.title, message: n.message, valid_from: n.validFrom, valid_to: n.validTo, created_at: null, updated_at: null })),
      );
      expect(await readRows(dbPath, 'SELECT * FROM settings')).toEqual(want.settings.map((x) => ({ key: x.key, value: x.value, updated_at: x.updatedAtMs })));
      const skipped = await readRows<{ kind: string; key: string; reason: string; data: Buffer }>(dbPath, 'SELECT * FROM migration_v5_skipped');
      expect(skipped).toHaveLength(1);
      expect(skipped[0]).toMatchObject({ kind: 'session', key: BROKEN_SESSION_ID });
      expect(skipped[0].reason.length).toBeGreaterThan(0);
      expect(Buffer.from(skipped[0].data).equals(BROKEN_DOCUMENT)).toBe(true);
      // The documents are gone: no v4_ table and no BLOB column is left behind.
      const tables = await readRows<{ name: string; sql: string }>(dbPath, "SELECT name, sql FROM sqlite_master WHERE type = 'table'");
      expect(tables.map((t) => t.name).filter((n) => n.startsWith('v4_'))).toEqual([]);
      expect(tables.filter((t) => t.name !== 'migration_v5_skipped' && / data BLOB/i.test(t.sql)).map((t) => t.name)).toEqual([]);

      // --- and through the worker, as the main thread reads them ----------------------------
      const page = ok(await handle({ kind: 'reloadSessions', after: null, limit: 100 }), 'reloadSessions');
      expect(decode<ColdSessionRow[]>(page.page)).toEqual(want.activeSessions.map((x) => [x.id, x.startedAtMs, x.durationSeconds]));
      const loaded = ok(await handle({ kind: 'loadSessions', ids: [...want.allSessions.map((x) => x.id), BROKEN_SESSION_ID] }), 'loadSessions');
      expect(await loadRecords(want.activeSessions.map((x) => x.id))).toEqual(want.activeSessions);
      expect(loaded.missingIds).toEqual([...want.allSessions.filter((x) => x.status === 'ended').map((x) => x.id), BROKEN_SESSION_ID]);
      const rest = ok(await handle({ kind: 'reloadRest', highScoreLimit: 10, idempotencySinceMs: 0, idempotencyLimit: 100, nowMs: 0, auditLimit: 100 }), 'reloadRest');
      expect(rest).toMatchObject({
        stats: want.stats, highScores: want.highScores, maxHighScoreId: want.maxHighScoreId, notices: want.notices, settings: want.settings,
      });
      expect(ok(await handle({ kind: 'countStarted', fromMs: 0, toMs: Number.MAX_SAFE_INTEGER }), 'countStarted').count).toBe(want.allSessions.length);

      // --- the upgraded file takes new batches on top ----------------------------------------
      const next = batch(want.lastSeq + 1, { sessions: [{ session: session('new') }], stats: stats({ startedCount: 1 }) });
      expect(ok(await handle(applyTask(next)), 'apply')).toMatchObject({ applied: true });
      expect(ok(await handle({ kind: 'reloadRest', highScoreLimit: 0, idempotencySinceMs: 0, idempotencyLimit: 100, nowMs: 0, auditLimit: 100 }), 'reloadRest').stats.startedCount).toBe(want.stats.startedCount + 1);
      await closeWorker();
      expect(ok(await handle(openTask(dbPath)), 'open')).toMatchObject({ migratedFrom: LATEST_SCHEMA_VERSION, lastSeq: want.lastSeq + 1 });
    });
  }
});
