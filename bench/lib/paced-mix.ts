/**
 * The HTTP write mix at a FIXED rate (open loop), for the low-load bench: request n is intended
 * at t0 + n / rate, whatever the answers do, and sent on a keep-alive pool (http-pool.ts, one
 * request in flight per connection); its latency counts from that intended time.
 * The mix is the one of bench/lua/mix.lua: spawn → artifact-status ground → carried → deposit
 * over a pool of pre-created sessions, each artifact moving on to its next step only once the
 * previous step was answered 2xx (so no step races its predecessor on another connection). A
 * target without sessions (the uWS hello-world) gets placeholder ids; the bytes stay the same size.
 * One call runs a warm-up and then a measured window; `window` is called at its edges so the
 * caller samples the target's counters exactly around it.
 */
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './histogram.js';
import { HttpPool } from './http-pool.js';

export interface PacedOptions {
  port: number;
  sessions: string[];
  ratePerS: number;
  connections: number;
  warmupMs: number;
  measureMs: number;
  /** Called when the measured window opens and when it closes (after its last intended send). */
  window: { open(): void; close(): void };
  /** How long to wait for answers to requests of the window after it closed. */
  graceMs?: number;
}

export interface PacedFigures {
  /** Requests intended inside the window, and answered. */
  sent: number;
  answered: number;
  non2xx: number;
  /** Requests whose connection failed, or unanswered after the grace period. */
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Spawns ÷ all requests sent (~0.25 when every artifact completes its cycle). */
  spawnShare: number;
  firstError: string | null;
}

const JSON_HEADERS = 'Content-Type: application/json\r\n';
const request = (path: string, body: string) => `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${JSON_HEADERS}Content-Length: ${body.length}\r\n\r\n${body}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Item = { session: number; artifact: string };

export async function runPaced(o: PacedOptions): Promise<PacedFigures> {
  const pool = new HttpPool(o.port, o.connections, 1);
  await pool.open();
  const stages: Item[][] = [[], [], []]; // ready for ground, carried, deposit
  let turn = 0;
  let nextSession = 0;
  let spawns = 0;
  const hist = new LatencyHistogram();
  let sentInWindow = 0;
  let answered = 0;
  let non2xx = 0;
  let errors = 0;
  let firstError: string | null = null;
  let pendingInWindow = 0;

  const t0 = performance.now();
  const windowOpen = o.warmupMs;
  const windowClose = o.warmupMs + o.measureMs;
  const clock = () => performance.now() - t0;

  const send = (text: string, intended: number, onOk: (body: string) => void, wantsBody: boolean) => {
    const inWindow = intended >= windowOpen && intended < windowClose;
    if (inWindow) {
      sentInWindow++;
      pendingInWindow++;
    }
    pool.send({
      text,
      wantsBody,
      onAnswer(status, body) {
        if (inWindow) {
          pendingInWindow--;
          hist.record(clock() - intended);
          if (status === 0) errors++;
          else answered++;
        }
        if (status >= 200 && status <= 299) return onOk(body);
        if (status !== 0 && inWindow) non2xx++;
        firstError ??= status === 0 ? 'connection failed' : `HTTP ${status} ${body.slice(0, 160)}`;
      },
    });
  };

  const next = (intended: number) => {
    const step = turn++ % 4;
    const item = step < 3 ? stages[step].shift() : undefined;
    if (item !== undefined) {
      const [path, body] =
        step === 2
          ? ['deposit', `{"artifactId":"${item.artifact}"}`]
          : ['artifact-status', `{"artifactId":"${item.artifact}","status":"${step === 0 ? 'ground' : 'carried'}"}`];
      return send(request(`/api/sessions/${o.sessions[item.session]}/${path}`, body), intended, () => step < 2 && stages[step + 1].push(item), false);
    }
    const session = nextSession++ % o.sessions.length;
    spawns++;
    const x = 170 + ((session * 37 + spawns) % 684);
    send(
      request(`/api/sessions/${o.sessions[session]}/spawn`, `{"x":${x},"y":218}`),
      intended,
      (body) => {
        const m = /"id":"(artifact_[^"]*)"/.exec(body);
        stages[0].push({ session, artifact: m === null ? 'artifact_0_placeholder' : m[1] });
      },
      true,
    );
  };

  // Every ~1 ms: send the requests whose intended time has come (n / rate, evenly spaced).
  let n = 0;
  let opened = false;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = clock();
      if (!opened && now >= windowOpen) {
        opened = true;
        o.window.open();
      }
      while (n * (1000 / o.ratePerS) <= Math.min(now, windowClose) && n * (1000 / o.ratePerS) < windowClose) {
        next(n * (1000 / o.ratePerS));
        n++;
      }
      if (now >= windowClose) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  const deadline = clock() + (o.graceMs ?? 5000);
  while (pendingInWindow > 0 && clock() < deadline) await sleep(2);
  o.window.close();
  errors += pendingInWindow;
  pool.close();
  return { sent: sentInWindow, answered, non2xx, errors, p50Ms: hist.percentile(50), p99Ms: hist.percentile(99), maxMs: hist.percentile(100), spawnShare: spawns / Math.max(1, n), firstError };
}
