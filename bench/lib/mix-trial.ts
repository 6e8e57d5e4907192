/**
 * One trial of the HTTP write mix against one fresh process: start it, pre-create the session
 * pool, run wrk with bench/lua/mix.lua (warm-up, then the measured window), stop. Shared by
 * http-mix (server vs baselines) and flush-tuning (server under different flush settings).
 * A trial whose mix did not run as designed (a kind never sent) fails loudly.
 */
import { join } from 'node:path';
import { placeholderPool, precreateSessions, writePool } from './mix.js';
import { type Proc, startBaseline, tempDir, withServer } from './server.js';
import { runWrk, type WrkFigures } from './wrk.js';

export interface MixSettings {
  connections: number;
  /** wrk threads (1 reached ~190k req/s on the uWS hello-world here). */
  threads: number;
  warmupS: number;
  durationS: number;
  /** Sessions to pre-create (the mix round-robins over them). */
  pool: number;
}

export interface MixFigures extends WrkFigures {
  /** Mean artifacts spawned per session in the measured window (~15 in a real game). */
  artifactsPerSession: number;
  /** Deposits ÷ spawns in the measured window: ~1 when every artifact completes its cycle. */
  depositsPerSpawn: number;
}

const KINDS = ['spawn', 'ground', 'carried', 'deposit'];

async function measure(proc: Proc, ids: string[], placeholder: boolean, s: MixSettings, dir: string, dbCpuMs?: () => number): Promise<MixFigures> {
  const file = writePool(join(dir, 'sessions.txt'), ids);
  const { sent, ...figures } = await runWrk({
    url: proc.url,
    script: 'mix',
    args: [file, placeholder ? 'placeholder' : 'server'],
    connections: s.connections,
    threads: s.threads,
    warmupS: s.warmupS,
    durationS: s.durationS,
    targetCpuMs: proc.cpuMs,
    dbCpuMs,
  });
  const missing = KINDS.filter((k) => !(sent[k] > 0));
  if (missing.length > 0 && figures.non2xx === 0) throw new Error(`mix: no ${missing.join(', ')} requests were sent (${JSON.stringify(sent)})`);
  return { ...figures, artifactsPerSession: (sent.spawn ?? 0) / ids.length, depositsPerSpawn: (sent.deposit ?? 0) / (sent.spawn ?? NaN) };
}

/**
 * The built server with `env` on a fresh database (a fresh SQLite file; for PostgreSQL the caller
 * puts a fresh database's URL in `env` and passes that server's CPU counter as `dbCpuMs`).
 */
export function mixOnServer(env: Record<string, string>, s: MixSettings, dbCpuMs?: () => number): Promise<MixFigures> {
  const tmp = tempDir();
  return withServer(env, async (proc) => measure(proc, await precreateSessions(proc.url, s.pool), false, s, tmp.dir, dbCpuMs)).finally(() => tmp.cleanup());
}

/** A baseline process; `hasSessions` = it implements create (write-through), else placeholder ids. */
export async function mixOnBaseline(name: string, hasSessions: boolean, s: MixSettings, env: Record<string, string> = {}): Promise<MixFigures> {
  const tmp = tempDir();
  let proc: Proc | null = null;
  try {
    proc = await startBaseline(name, { VIBEFIXER_DB_PATH: join(tmp.dir, 'baseline.sqlite'), ...env });
    const pool = hasSessions ? await precreateSessions(proc.url, s.pool) : placeholderPool(s.pool);
    return await measure(proc, pool, !hasSessions, s, tmp.dir);
  } finally {
    await proc?.stop();
    tmp.cleanup();
  }
}
