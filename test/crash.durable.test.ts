/**
 * Crash test, VIBEFIXER_ACK=durable (the default): a real server process is killed with SIGKILL
 * at a random instant while 12 concurrent players write, then restarted on the same file.
 * DESIGN.md "Durability model": with ack=durable NOTHING that was answered may be lost.
 *
 * Every acknowledged (2xx) write is recorded with its seq; after the restart every one of them
 * is checked over HTTP (sessions, artifacts and their states, ends, counters, high scores), and
 * the file's last committed seq must cover the highest acknowledged seq. The kill cycle repeats
 * on the same file, and each round re-checks everything acknowledged in all earlier rounds.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childServersForFile, tempDir } from './helpers/child-server.js';
import { durableViolations, GameClient, reportViolations } from './helpers/game-client.js';

const ROUNDS = Number(process.env.CRASH_TEST_ROUNDS ?? 3);
const LOOPS = 12;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe('crash with ack=durable (kill -9 under load)', () => {
  const tmp = tempDir('vibefixer-crash-durable-');
  const dbPath = join(tmp.dir, 'db.sqlite');
  const env = { VIBEFIXER_DB_PATH: dbPath, VIBEFIXER_ACK: 'durable', VIBEFIXER_RATE_LIMIT_PER_MIN: '0' };
  const start = childServersForFile(env);
  afterAll(() => tmp.cleanup());


  it(`loses no acknowledged write across ${ROUNDS} kill -9 rounds on the same file`, { timeout: 60_000 }, async () => {
    let server = await start();
    const client = new GameClient(server.url);
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const killDelayMs = 200 + Math.floor(Math.random() * 600);
        const load = client.load({
          loops: LOOPS,
          maxDurationMs: 5_000,
          maxSessionsPerLoop: 200,
          // Fewer than 200 high scores in all, so every one stays within the newest 200 listed.
          highScoreBudget: Math.min(40, Math.floor(180 / ROUNDS)),
          phase: `r${round}`,
        });
        await sleep(killDelayMs);
        const killAt = Date.now();
        const pid = server.proc.pid;
        server.proc.kill('SIGKILL');
        const loaded = await load;
        const exit = await server.exited;
        expect(exit.signal).toBe('SIGKILL');
        const roundAcks = client.acks.filter((a) => a.phase === `r${round}`);
        // The kill must hit a server under load, or the round proves nothing.
        expect(roundAcks.length, 'writes acknowledged before the kill').toBeGreaterThan(20);
        expect(loaded.failures, 'writes in flight when the process died').toBeGreaterThan(0);

        server = await start();
        client.retarget(server.url);
        const opened = server.logs.find((l) => l.event === 'database_open');
        const lastSeq = opened?.lastSeq as number;
        const { violations, stats, maxSeq } = await durableViolations(client, lastSeq, `v${round}`);

        console.info(
          `[crash.durable] round ${round}: pid ${pid} killed ${killDelayMs} ms into the load; ` +
            `${roundAcks.length} writes acknowledged this round (${client.acks.length} in all, highest seq ${maxSeq}), ` +
            `${loaded.failures} cut off; file last_seq ${lastSeq}; started ${stats.startedCount}, active ${stats.activeCount}`,
        );
        expect(violations.length, reportViolations(violations, killAt)).toBe(0);
      }
    } finally {
      client.close();
    }
    const stopped = await server.stop('SIGTERM');
    expect(stopped.code).toBe(0);
  });
});
