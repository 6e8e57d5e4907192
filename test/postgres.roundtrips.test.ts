/**
 * Round trips per applied batch, counted on the client (node-postgres sends a query only after the
 * previous one answered: no pipelining, so one `query` call is one round trip). With ack=durable
 * every player answer waits for the batch's commit, so this count is latency on the critical path.
 * Before the one-statement apply (BEGIN, lock last_seq, a statement per part, last_seq, COMMIT)
 * these four batches took 8, 3, 6 and 18.
 */
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { T0, artifactRows, batch, delta, everyPartBatch, levelRow, sessionRow, usePostgres } from './postgres.fixtures.js';

const pgServer = usePostgres();

afterEach(() => {
  vi.restoreAllMocks();
});

/** Client queries (= round trips) that `fn` causes. */
async function roundTrips(fn: () => Promise<unknown>): Promise<number> {
  const spy = vi.spyOn(pg.Client.prototype, 'query');
  try {
    await fn();
    return spy.mock.calls.length;
  } finally {
    spy.mockRestore();
  }
}

describe('postgres apply round trips', () => {
  it('applies a batch, a replayed batch and a batch of every table in one round trip each', async () => {
    const { driver } = await pgServer.open();
    const player = batch(1, {
      upserts: { sessions: [sessionRow('s1')], artifacts: artifactRows('s1'), levels: [levelRow('s1')] },
      stats: delta({ startedCount: 1, latestActivityAtMs: T0 }),
    });
    const counts = {
      player: await roundTrips(() => driver.apply(player)),
      replay: await roundTrips(() => driver.apply(player)),
      update: await roundTrips(() => driver.apply(batch(2, { upserts: { artifacts: artifactRows('s1') }, stats: delta({ latestActivityAtMs: T0 + 1 }) }))),
      every: await roundTrips(() => driver.apply(everyPartBatch(3, 2))),
    };
    expect(counts).toEqual({ player: 1, replay: 1, update: 1, every: 1 });
  });
});
