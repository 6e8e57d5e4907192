/**
 * A real server process for integration and crash tests: the BUILT server (dist/, built by
 * `npm test`'s pretest), port 0, its own temporary directory, logs parsed from stdout.
 * On the postgres test project a VIBEFIXER_DB_PATH stands for a database of its own on the run's
 * PostgreSQL (test/helpers/storage.ts).
 * Only processes started here are ever signalled, by their own PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type LogLine, watchLogLines } from '../../bench/lib/log-lines.js';
import { storageEnv } from './storage.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const MAIN = join(ROOT, 'dist', 'src', 'server', 'main.js');

export type { LogLine };

export interface ChildServer {
  proc: ChildProcess;
  port: number;
  url: string;
  logs: LogLine[];
  /** Resolves with the exit code (null if killed by a signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until a log line matches, up to `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function tempDir(prefix = 'vibefixer-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts the server; resolves once it logs `listening` (rejects if it exits first). */
export async function startChild(env: Record<string, string>, timeoutMs = 20_000): Promise<ChildServer> {
  const proc = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', VIBEFIXER_LOG_LEVEL: 'info', ...(await storageEnv(env)) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { logs, waitFor } = watchLogLines(proc.stdout!);
  let stderr = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.once('exit', (code, signal) => res({ code, signal })),
  );

  const waitForLog = (match: (l: LogLine) => boolean, ms = timeoutMs) => waitFor(match, ms, () => `; stderr: ${stderr}`);

  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`server did not start in ${timeoutMs} ms; stderr: ${stderr}; logs: ${JSON.stringify(logs.slice(-5))}`));
    }, timeoutMs);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new Error(`server exited before listening (code ${code}, signal ${signal}); stderr: ${stderr}; logs: ${JSON.stringify(logs.slice(-5))}`));
    });
    waitForLog((l) => l.event === 'listening', timeoutMs).then((line) => {
      clearTimeout(timer);
      const port = line.port as number;
      res({
        proc,
        port,
        url: `http://127.0.0.1:${port}`,
        logs,
        exited,
        waitForLog,
        stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
          const killer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
          const result = await exited;
          clearTimeout(killer);
          return result;
        },
      });
    }, () => undefined);
  });
}

/** Runs the server to completion (for start-up refusals): exit code, logs and stderr. */
export async function runChildToExit(env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number | null; logs: LogLine[]; stderr: string }> {
  const resolved = await storageEnv(env);
  return new Promise((res, rej) => {
    const proc = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...resolved },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`server still running after ${timeoutMs} ms`));
    }, timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      const logs = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);
      res({ code, logs, stderr });
    });
  });
}

/**
 * Servers for one test file, all on `env`: fails fast when the build is missing, and kills (by
 * PID, SIGKILL) whatever is still running once the file's tests are done.
 */
export function childServersForFile(env: Record<string, string>): () => Promise<ChildServer> {
  const started: ChildServer[] = [];
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  });
  afterAll(async () => {
    for (const child of started) if (child.proc.exitCode === null && child.proc.signalCode === null) await child.stop('SIGKILL');
  });
  return async () => {
    const child = await startChild(env);
    started.push(child);
    return child;
  };
}
