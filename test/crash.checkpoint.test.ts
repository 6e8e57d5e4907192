/**
 * Crash test during a WAL checkpoint, VIBEFIXER_ACK=durable: a real server process under load is
 * killed with SIGKILL the moment its checkpointer thread says a checkpoint started
 * (`checkpoint_started`, logged at debug level), then restarted on the same file. The checkpointer
 * only copies committed pages from the WAL into the file, so NOTHING that was answered may be
 * lost, and the file must open (quick_check runs after an unclean stop) with its last seq
 * covering the highest acknowledged one. Repeated on the same file; each round re-checks
 * everything acknowledged in all earlier rounds.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childServersForFile, tempDir } from './helpers/child-server.js';
import { durableViolations, GameClient, reportViolations } from './helpers/game-client.js';

const ROUNDS = 3;
const LOOPS = 12;

describe('crash with ack=durable during a WAL checkpoint (kill -9 when one starts)', () => {
  const tmp = tempDir('vibefixer-crash-checkpoint-');
  const dbPath = join(tmp.dir, 'db.sqlite');
  const env = {
    VIBEFIXER_DB_PATH: dbPath,
    VIBEFIXER_ACK: 'durable',
    VIBEFIXER_RATE_LIMIT_PER_MIN: '0',
    VIBEFIXER_LOG_LEVEL: 'debug',
    VIBEFIXER_CHECKPOINT_INTERVAL_MS: '1',
  };
  const start = childServersForFile(env);
  afterAll(() => tmp.cleanup());

  it(`loses no acknowledged write when killed as a checkpoint starts, ${ROUNDS} rounds on the same file`, { timeout: 90_000 }, async () => {
    let server = await start();
    const client = new GameClient(server.url);
    let landedInside = 0;
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const load = client.load({
          loops: LOOPS,
          maxDurationMs: 15_000,
          maxSessionsPerLoop: 200,
          highScoreBudget: Math.min(40, Math.floor(180 / ROUNDS)),
          phase: `r${round}`,
        });
        // The first checkpoint of this process that starts once writes are being acknowledged.
        const seenBefore = server.logs.length;
        const started = await server.waitForLog((l) => l.event === 'checkpoint_started' && server.logs.indexOf(l) >= seenBefore, 15_000);
        const killAt = Date.now();
        const pid = server.proc.pid;
        server.proc.kill('SIGKILL');
        const loaded = await load;
        const exit = await server.exited;
        expect(exit.signal).toBe('SIGKILL');
        const startedAt = server.logs.indexOf(started);
        const finished = server.logs.slice(startedAt).some((l) => l.event === 'checkpoint_done');
        if (!finished) landedInside += 1;
        const roundAcks = client.acks.filter((a) => a.phase === `r${round}`);
        expect(roundAcks.length, 'writes acknowledged before the kill').toBeGreaterThan(0);

        server = await start();
        client.retarget(server.url);
        const opened = server.logs.find((l) => l.event === 'database_open');
        expect(opened?.quarantinedTo ?? null, 'the file was not found corrupt').toBeNull();
        const lastSeq = opened?.lastSeq as number;
        const { violations, maxSeq } = await durableViolations(client, lastSeq, `v${round}`);

        console.info(
          `[crash.checkpoint] round ${round}: pid ${pid} killed as a ${String(started.mode)} checkpoint started ` +
            `(its checkpoint_done ${finished ? 'was' : 'was not'} logged before the exit); ${roundAcks.length} writes acknowledged ` +
            `this round, ${loaded.failures} cut off; file last_seq ${lastSeq} ≥ highest acknowledged ${maxSeq}`,
        );
        expect(violations.length, reportViolations(violations, killAt)).toBe(0);
      }
    } finally {
      client.close();
    }
    console.info(`[crash.checkpoint] ${landedInside}/${ROUNDS} kills landed before the checkpoint reported done`);
    expect((await server.stop('SIGTERM')).code).toBe(0);
  });
});
