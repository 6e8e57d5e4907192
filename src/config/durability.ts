// Durability: the one sentence the server logs at start-up on what an answered write survives with
// these settings (README.md "Durability" has the same table). Pure; reads only the Config.

import type { Config } from '../config.js';

/** One sentence on what an answered write survives with these settings; printed at start-up. */
export function describeDurability(c: Config): string {
  if (c.storage === 'postgres') return describePostgresDurability(c);
  const sync = `synchronous=${c.sqliteSynchronous}`;
  if (c.ack === 'durable') {
    return c.sqliteSynchronous === 'FULL'
      ? `ack=durable, ${sync}: an answered write survives a process crash (kill -9) and a power loss (one fsync per commit)`
      : `ack=durable, ${sync}: an answered write survives a process crash (kill -9); a power loss may lose the last commits (those since the last WAL checkpoint)`;
  }
  const lost =
    `at most the writes of the last ~${c.flushIntervalMs} ms plus one commit ` +
    `(while commits fail: every pending write, up to ${c.queueMaxPending} entities)`;
  return c.sqliteSynchronous === 'FULL'
    ? `ack=memory, flush every ${c.flushIntervalMs} ms, ${sync}: a process crash or a power loss loses ${lost}`
    : `ack=memory, flush every ${c.flushIntervalMs} ms, ${sync}: a process crash loses ${lost}; a power loss may also lose the commits since the last WAL checkpoint`;
}

/** PostgreSQL: a COMMIT returns once the server has flushed its WAL (synchronous_commit=on, its default). */
function describePostgresDurability(c: Config): string {
  if (c.ack === 'durable') {
    return 'ack=durable, storage=postgres: an answered write survives a crash of this process and of PostgreSQL (a commit returns after the WAL is flushed, if the server keeps synchronous_commit=on and fsync=on)';
  }
  return (
    `ack=memory, flush every ${c.flushIntervalMs} ms, storage=postgres: a process crash loses at most the writes of the last ~${c.flushIntervalMs} ms plus one commit ` +
    `(while commits fail: every pending write, up to ${c.queueMaxPending} entities)`
  );
}
