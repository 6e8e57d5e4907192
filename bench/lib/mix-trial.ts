/**
 * One trial of the HTTP write mix (mix.ts) against one fresh process: start it, pre-create the
 * session pool, warm up, measure, stop. Shared by http-mix (server vs baselines) and
 * flush-tuning (server under different flush settings).
 */
import { join } from 'node:path';
import { type LoadFigures, runLoad } from './http-load.js';
import { mixRequests, placeholderPool, precreateSessions } from './mix.js';
import { type Proc, startBaseline, tempDir, withServer } from './server.js';

export interface MixSettings {
  connections: number;
  warmupS: number;
  durationS: number;
  /** Sessions to pre-create (the mix round-robins over them). */
  pool: number;
}

export interface MixFigures extends LoadFigures {
  /** Mean artifacts per session at the end (spawns / pool): ~15 in a real game. */
  artifactsPerSession: number;
}

async function measure(proc: Proc, pool: string[], s: MixSettings): Promise<MixFigures> {
  const counters = { spawns: 0 };
  const figures = await runLoad({ url: proc.url, requests: mixRequests(pool, counters), connections: s.connections, warmupS: s.warmupS, durationS: s.durationS, targetCpuMs: proc.cpuMs });
  return { ...figures, artifactsPerSession: counters.spawns / pool.length };
}

/** The built server with `env` on a fresh database. */
export function mixOnServer(env: Record<string, string>, s: MixSettings): Promise<MixFigures> {
  return withServer(env, async (proc) => measure(proc, await precreateSessions(proc.url, s.pool), s));
}

/** A baseline process; `hasSessions` = it implements create (write-through), else placeholder ids. */
export async function mixOnBaseline(name: string, hasSessions: boolean, s: MixSettings, env: Record<string, string> = {}): Promise<MixFigures> {
  const tmp = tempDir();
  let proc: Proc | null = null;
  try {
    proc = await startBaseline(name, { VIBEFIXER_DB_PATH: join(tmp.dir, 'baseline.sqlite'), ...env });
    const pool = hasSessions ? await precreateSessions(proc.url, s.pool) : placeholderPool(s.pool);
    return await measure(proc, pool, s);
  } finally {
    await proc?.stop();
    tmp.cleanup();
  }
}
