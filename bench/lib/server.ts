/**
 * Starts one process under test (the built server, or a baseline, both from the frozen copy of
 * dist/ made by build.ts) as a child on 127.0.0.1 port 0, reads its port from the `listening`
 * JSON log line, and offers what the benches measure on it: time to ready, RSS and CPU time
 * from /proc, the server's own log lines.
 * Only processes started here are ever signalled, by their own pid; each bench trial gets a
 * fresh process and (via `tempDir`) a fresh directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type LogLine, watchLogLines } from './log-lines.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { frozenBuild, ROOT } from './build.js';

/** The server and baselines of the frozen build (build.ts), never the live dist/. */
export const serverMain = () => join(frozenBuild().root, 'dist', 'src', 'server', 'main.js');
export const baselineScript = (name: string) => join(frozenBuild().root, 'dist', 'bench', 'baselines', `${name}.js`);

/**
 * The environment every server trial starts from: loopback only, limiter off (one client
 * address sends everything), info logs because `listening` and `reload_done` are info lines.
 */
export const SERVER_BASE_ENV: Readonly<Record<string, string>> = Object.freeze({
  PORT: '0',
  HOST: '127.0.0.1',
  VIBEFIXER_RATE_LIMIT_PER_MIN: '0',
  VIBEFIXER_LOG_LEVEL: 'info',
});

export type { LogLine };

export interface Proc {
  pid: number;
  port: number;
  url: string;
  /** performance.now() just before spawn, and when the `listening` line was parsed. */
  spawnedAt: number;
  readyAt: number;
  logs: LogLine[];
  /** Resident set size now, from /proc/<pid>/status (KiB). */
  rssKiB(): number;
  /** CPU time used so far by all its threads (user + system), from /proc/<pid>/stat (ms). */
  cpuMs(): number;
  waitForLog(match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM (graceful), SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<void>;
  /** kill -9 now; resolves on exit. */
  kill9(): Promise<void>;
}

export interface StartOptions {
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  timeoutMs?: number;
  cwd?: string;
}

/** Starts `script` with exactly `env` (plus PATH) and resolves once it logs `listening`. */
export function startProcess(script: string, env: Record<string, string>, opts: StartOptions = {}): Promise<Proc> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), script], {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { logs, waitFor } = watchLogLines(child.stdout!);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    if (stderr.length < 20_000) stderr += chunk;
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const alive = () => child.exitCode === null && child.signalCode === null;

  const waitForLog = (match: (l: LogLine) => boolean, ms = timeoutMs) => waitFor(match, ms, () => `; stderr: ${stderr}`);

  return new Promise<Proc>((res, rej) => {
    const fail = (why: string) => {
      if (alive()) child.kill('SIGKILL');
      rej(new Error(`${script}: ${why}; stderr: ${stderr.slice(-2000)}; last logs: ${JSON.stringify(logs.slice(-3))}`));
    };
    const timer = setTimeout(() => fail(`not listening after ${timeoutMs} ms`), timeoutMs);
    exited.then(() => (clearTimeout(timer), fail(`exited before listening (code ${child.exitCode}, signal ${child.signalCode})`)));
    waitForLog((l) => l.event === 'listening', timeoutMs).then(
      (line) => {
        clearTimeout(timer);
        const readyAt = performance.now();
        const port = Number(line.port);
        res({
          pid: child.pid!,
          port,
          url: `http://127.0.0.1:${port}`,
          spawnedAt,
          readyAt,
          logs,
          rssKiB: () => readRssKiB(child.pid!),
          cpuMs: () => readCpuMs(child.pid!),
          waitForLog,
          stop: async (graceMs = 20_000) => {
            if (!alive()) return;
            child.kill('SIGTERM');
            const killer = setTimeout(() => alive() && child.kill('SIGKILL'), graceMs);
            await exited;
            clearTimeout(killer);
          },
          kill9: async () => {
            if (alive()) child.kill('SIGKILL');
            await exited;
          },
        });
      },
      () => undefined,
    );
  });
}

/** Starts the built server with SERVER_BASE_ENV + `env`. */
export function startServer(env: Record<string, string>, opts: StartOptions = {}): Promise<Proc> {
  return startProcess(serverMain(), { ...SERVER_BASE_ENV, ...env }, opts);
}

/** Starts a baseline (dist/bench/baselines/<name>.js) on 127.0.0.1 port 0. */
export function startBaseline(name: string, env: Record<string, string> = {}, opts: StartOptions = {}): Promise<Proc> {
  return startProcess(baselineScript(name), { PORT: '0', HOST: '127.0.0.1', ...env }, opts);
}

export function readRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (m === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

/** utime + stime of a process (all threads), in ms (clock ticks of 10 ms on Linux). */
export function readCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A fresh temporary directory for one trial, removed by `cleanup`. */
export function tempDir(prefix = 'vibefixer-bench-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `fn` with a server started on a fresh database in a fresh directory; always stops it. */
export async function withServer<T>(env: Record<string, string>, fn: (p: Proc) => Promise<T>, opts: StartOptions = {}): Promise<T> {
  const tmp = tempDir();
  let proc: Proc | null = null;
  try {
    proc = await startServer({ VIBEFIXER_DB_PATH: join(tmp.dir, 'bench.sqlite'), ...env }, opts);
    return await fn(proc);
  } finally {
    await proc?.stop();
    tmp.cleanup();
  }
}
