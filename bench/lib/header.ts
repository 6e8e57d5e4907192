/**
 * The header every bench prints and stores: when, on what code (commit, and whether the work
 * tree had uncommitted changes), on what machine (Node, CPU, cores, load average at start), and
 * with which settings (the server env in effect and the script's own parameters).
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { ROOT } from './server.js';

export interface Header {
  date: string;
  commit: string;
  /** Files changed in the work tree relative to the commit (others edit it concurrently). */
  uncommittedFiles: number;
  node: string;
  cpu: string;
  cores: number;
  /** 1-minute load average when the script started: the machine is shared. */
  loadAvg1m: number;
  quick: boolean;
  trials: number;
  /** The server environment in effect (before per-row variations named in the table). */
  env: Record<string, string>;
  /** The script's own parameters: connections, durations, sizes. */
  settings: Record<string, string | number>;
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
  return {
    date: new Date().toISOString(),
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    uncommittedFiles: status === '' ? 0 : status.split('\n').length,
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAvg1m: Math.round(loadavg()[0] * 100) / 100,
    quick: opts.quick,
    trials: opts.trials,
    env,
    settings,
  };
}
