/**
 * Reads a child server's JSON log lines from its stdout and lets callers wait for one. Shared by
 * the bench harness (lib/server.ts) and the test harness (test/helpers/child-server.ts).
 */
import type { Readable } from 'node:stream';

export interface LogLine {
  level?: number;
  event?: string;
  msg?: string;
  [key: string]: unknown;
}

export interface LogWatcher {
  /** Every JSON line seen so far, in order. */
  readonly logs: LogLine[];
  /** Resolves with the first line (seen or to come) that matches; rejects after `timeoutMs`. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs: number, describe?: () => string): Promise<LogLine>;
}

export function watchLogLines(stdout: Readable): LogWatcher {
  const logs: LogLine[] = [];
  const watchers: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  let buffered = '';
  stdout.setEncoding('utf8');
  stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!text.startsWith('{')) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      logs.push(line);
      for (const w of watchers.splice(0)) (w.match(line) ? w.resolve(line) : watchers.push(w));
    }
  });
  return {
    logs,
    waitFor: (match, timeoutMs, describe = () => '') =>
      new Promise((resolve, reject) => {
        const found = logs.find(match);
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error(`log line not seen in ${timeoutMs} ms ${describe()}`)), timeoutMs);
        watchers.push({
          match,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      }),
  };
}
