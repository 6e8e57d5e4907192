/**
 * Per-thread CPU time and context switches of a process under test, from /proc/<pid>/task/*:
 * `schedstat` (time on CPU in ns, exact, unlike the 10 ms ticks of `stat`) and `status`
 * (voluntary and nonvoluntary context switches). A sample is taken before and after a measured
 * window; the difference is split into the main thread (tid = pid), the busiest other thread
 * (in this server the persistence worker; verified with `perf`/`top -H`, Node 20 gives every
 * thread the same name) and all the rest (V8 platform workers: GC and compiler helpers, the libuv
 * threadpool). Threads that ended inside the window are missed (none do in a steady server).
 * Reads /proc only; never signals anything.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ThreadSample {
  /** tid → counters at the sample. */
  byTid: Map<number, { cpuNs: number; voluntary: number; nonvoluntary: number }>;
}

export interface ThreadSplit {
  /** CPU ms of all threads / the main thread / the busiest other thread / the rest. */
  allMs: number;
  mainMs: number;
  otherMs: number;
  restMs: number;
  /** Context switches (voluntary + nonvoluntary), same split. */
  csAll: number;
  csMain: number;
  csOther: number;
  csRest: number;
  /** Voluntary share of all switches (a thread that blocks: futex, epoll_wait). */
  csVoluntary: number;
  /** Threads seen in the window that used any CPU. */
  activeThreads: number;
}

function readNum(text: string, key: string): number {
  const at = text.indexOf(`${key}:`);
  return at < 0 ? 0 : parseInt(text.slice(at + key.length + 1).trim(), 10);
}

export function sampleThreads(pid: number): ThreadSample {
  const byTid = new Map<number, { cpuNs: number; voluntary: number; nonvoluntary: number }>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const cpuNs = Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      const status = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      byTid.set(Number(t), { cpuNs, voluntary: readNum(status, 'voluntary_ctxt_switches'), nonvoluntary: readNum(status, 'nonvoluntary_ctxt_switches') });
    } catch {
      // the thread ended while we looked
    }
  }
  return { byTid };
}

export function splitThreads(pid: number, before: ThreadSample, after: ThreadSample): ThreadSplit {
  const deltas: Array<{ tid: number; ms: number; cs: number; vol: number }> = [];
  for (const [tid, a] of after.byTid) {
    const b = before.byTid.get(tid) ?? { cpuNs: 0, voluntary: 0, nonvoluntary: 0 };
    deltas.push({ tid, ms: (a.cpuNs - b.cpuNs) / 1e6, cs: a.voluntary + a.nonvoluntary - b.voluntary - b.nonvoluntary, vol: a.voluntary - b.voluntary });
  }
  const main = deltas.find((d) => d.tid === pid) ?? { tid: pid, ms: 0, cs: 0, vol: 0 };
  const others = deltas.filter((d) => d.tid !== pid).sort((x, y) => y.ms - x.ms);
  const other = others[0] ?? { tid: 0, ms: 0, cs: 0, vol: 0 };
  const sum = (ds: typeof deltas, f: (d: (typeof deltas)[number]) => number) => ds.reduce((s, d) => s + f(d), 0);
  const csAll = sum(deltas, (d) => d.cs);
  return {
    allMs: sum(deltas, (d) => d.ms),
    mainMs: main.ms,
    otherMs: other.ms,
    restMs: sum(others.slice(1), (d) => d.ms),
    csAll,
    csMain: main.cs,
    csOther: other.cs,
    csRest: sum(others.slice(1), (d) => d.cs),
    csVoluntary: csAll === 0 ? NaN : sum(deltas, (d) => d.vol) / csAll,
    activeThreads: deltas.filter((d) => d.ms > 0).length,
  };
}
