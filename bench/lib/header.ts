/**
 * The header every bench prints and stores: when, on what code (commit, whether the work tree
 * had uncommitted changes, and the frozen build that actually ran), on what machine (Node, CPU, cores, load average at start), and
 * with which settings (the server env in effect and the script's own parameters).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { frozenBuild, ROOT } from './build.js';

export interface Header {
  date: string;
  commit: string;
  /** Files changed in the work tree relative to the commit (others edit it concurrently). */
  uncommittedFiles: number;
  /** The frozen server build every trial ran (build.ts): content hash and compile time. */
  build: string;
  builtAt: string;
  node: string;
  cpu: string;
  cores: number;
  /** 1-minute load average when the script started: the machine is shared. */
  loadAvg1m: number;
  /** Other bench scripts running when this one started (they would share the cores). */
  otherBenches: number;
  quick: boolean;
  trials: number;
  /** The server environment in effect (before per-row variations named in the table). */
  env: Record<string, string>;
  /** The script's own parameters: connections, durations, sizes. */
  settings: Record<string, string | number>;
}

/** This process and its ancestors (npm, sh, run-all), from /proc/<pid>/stat. */
function lineage(): Set<number> {
  const out = new Set<number>();
  for (let pid = process.pid; pid > 1 && !out.has(pid); ) {
    out.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return out;
}

/** Processes running a script of dist/bench (not baselines) outside this one's own lineage. */
export function otherBenchProcesses(): number {
  const mine = lineage();
  let count = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (mine.has(Number(pid))) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (/dist\/bench\/(?!baselines\/)\S+\.js/.test(cmd)) count++;
    } catch {
      // the process ended while we looked
    }
  }
  return count;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function collectHeader(
  opts: { quick: boolean; trials: number },
  env: Record<string, string>,
  settings: Record<string, string | number>,
): Header {
  const status = git(['status', '--porcelain']);
  const build = frozenBuild();
  return {
    date: new Date().toISOString(),
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    uncommittedFiles: status === '' ? 0 : status.split('\n').length,
    build: build.id,
    builtAt: build.builtAt,
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAvg1m: Math.round(loadavg()[0] * 100) / 100,
    otherBenches: otherBenchProcesses(),
    quick: opts.quick,
    trials: opts.trials,
    env,
    settings,
  };
}
