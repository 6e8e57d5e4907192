/**
 * One client thread of the players bench (started by players-load.ts): simulated players at the
 * real game's pace, OPEN-LOOP. Every request has an intended send time taken from the game's
 * schedule (never from when the previous answer came back), and its latency is measured from
 * that time, so a server that stalls shows up as latency and not as a client that slows down.
 * A step that depends on an answer (ground needs the spawn's artifact id) is intended at the
 * later of its planned time and that answer.
 *
 * One player: a session (pre-created before the clock starts, entering its 60 s game at a random
 * point, so the load is steady from the start; later players create their own), a spawn every
 * ~2 s, and per artifact landing (ground), pick-up (carried) and deposit spread over its next
 * ~1.5–6 s; at 60 s the session ends (won if everything was deposited) once nothing of that
 * player is in flight, a high score is submitted, and a new player takes the slot.
 *
 *   main ──{go, t0}──► settle ─► measured window ─► drain (≤ grace) ─► {result} ──► main
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { LatencyHistogram } from './histogram.js';
import { HttpPool, type PoolRequest } from './http-pool.js';
import { type Kind, KINDS, type PlayersWorkerData, type PlayersWorkerResult } from './players-types.js';

const cfg = workerData as PlayersWorkerData;
const JSON_HEADERS = 'Content-Type: application/json\r\n';
/** A whole number of ms in [lo, hi): every intended time is a whole ms (see tick). */
const rand = (lo: number, hi: number) => Math.floor(lo + Math.random() * (hi - lo));
const nowMs = () => Math.floor(clock());
// 201 from the server; the uWS hello baseline answers 200 to everything.
const ok = (status: number) => status >= 200 && status <= 299;

function request(path: string, body: string | null): string {
  if (body === null) return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`;
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${JSON_HEADERS}Content-Length: ${body.length}\r\n\r\n${body}`;
}
const CREATE = request('/api/sessions', null);

interface Player {
  id: number;
  /** Bumped for each new session: pending steps of an older session are dropped. */
  gen: number;
  prefix: string;
  endAt: number;
  inFlight: number;
  ending: boolean;
  artifacts: number;
  deposited: number;
}

// ---- timing wheel: 1 ms slots, callbacks run once their slot is due -----------------------
const WHEEL = 1 << 17; // 131 s, longer than any delay scheduled (a game is 60 s)
const wheel: Array<Array<() => void> | undefined> = new Array(WHEEL);
let doneUpTo = -1; // every slot ≤ this has run
let t0 = 0; // performance.now() of the schedule's origin
const clock = () => performance.now() - t0;

function at(t: number, fn: () => void): void {
  const slot = Math.floor(t);
  if (slot <= doneUpTo) return fn();
  if (slot - doneUpTo >= WHEEL) throw new Error(`scheduled too far ahead: ${t - clock()} ms`);
  const i = slot & (WHEEL - 1);
  (wheel[i] ??= []).push(fn);
}

// ---- measurement ------------------------------------------------------------------------------
const hist = new LatencyHistogram();
const lagHist = new LatencyHistogram();
const answered = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
let non2xx = 0;
let socketErrors = 0;
let firstNon2xx: string | null = null;
let windowOpen = 0;
let windowClose = 0;
let generating = true;
const pendingInWindow = new Set<{ intended: number }>();

let pool: HttpPool;

/** Sends one request intended at `intended` (ms on the schedule's clock). */
function send(p: Player | null, kind: Kind, text: string, intended: number, wantsBody: boolean, then: (status: number, body: string) => void): void {
  const inWindow = intended >= windowOpen && intended < windowClose;
  const mark = { intended };
  if (inWindow) pendingInWindow.add(mark);
  if (p !== null) p.inFlight++;
  const r: PoolRequest = {
    text,
    wantsBody,
    onAnswer(status, body) {
      if (p !== null) p.inFlight--;
      if (inWindow && pendingInWindow.delete(mark)) {
        hist.record(clock() - intended);
        answered[kind]++;
      }
      if (status === 0) socketErrors++;
      else if (status < 200 || status > 299) {
        non2xx++;
        firstNon2xx ??= `${kind} → ${status} ${body.slice(0, 120)}`;
      }
      then(status, body);
    },
  };
  pool.send(r);
}

// ---- the game ---------------------------------------------------------------------------------
function startSession(p: Player, sessionId: string, endAt: number, firstSpawn: number): void {
  p.gen++;
  p.prefix = `/api/sessions/${sessionId}`;
  p.endAt = endAt;
  p.ending = false;
  p.artifacts = 0;
  p.deposited = 0;
  const gen = p.gen;
  at(endAt, () => endGame(p, gen, endAt));
  const spawnAt = (t: number) => {
    if (t >= endAt - 1000) return; // no drop in the last second
    at(t, () => spawn(p, gen, t, () => spawnAt(t + cfg.spawnEveryMs)));
  };
  spawnAt(firstSpawn);
}

function spawn(p: Player, gen: number, t: number, next: () => void): void {
  if (!generating || p.gen !== gen) return;
  next();
  const n = p.artifacts++;
  const x = 170 + ((p.id * 131 + n * 37) % 684);
  send(p, 'spawn', request(`${p.prefix}/spawn`, `{"x":${x},"y":218}`), t, true, (status, body) => {
    if (!ok(status) || p.gen !== gen) return;
    const m = /"id":"(artifact_[^"]*)"/.exec(body);
    const artifactId = m === null ? 'artifact_0_placeholder' : m[1];
    const answeredAt = nowMs();
    // Landing, pick-up, deposit: each planned after the previous one, never before its answer.
    const steps: Array<{ kind: Kind; delay: number; body: string; path: string }> = [
      { kind: 'ground', delay: rand(500, 1500), path: 'artifact-status', body: `{"artifactId":"${artifactId}","status":"ground"}` },
      { kind: 'carried', delay: rand(1000, 2500), path: 'artifact-status', body: `{"artifactId":"${artifactId}","status":"carried"}` },
      { kind: 'deposit', delay: rand(1000, 2000), path: 'deposit', body: `{"artifactId":"${artifactId}"}` },
    ];
    const step = (i: number, planned: number, after: number) => {
      if (i === steps.length) return void p.deposited++;
      const s = steps[i];
      const intended = Math.max(planned + s.delay, after);
      if (intended >= p.endAt - 200) return; // the game ends first: left undeposited
      at(intended, () => {
        if (!generating || p.gen !== gen || p.ending) return;
        send(p, s.kind, request(`${p.prefix}/${s.path}`, s.body), intended, false, (st) => {
          if (ok(st) && p.gen === gen) step(i + 1, intended, nowMs());
        });
      });
    };
    step(0, t, answeredAt);
  });
}

function endGame(p: Player, gen: number, endAt: number): void {
  if (!generating || p.gen !== gen) return;
  p.ending = true;
  // Never end a session under a request still in flight (it would answer 404 after the end).
  if (p.inFlight > 0) {
    const retry = () => (p.inFlight > 0 ? at(nowMs() + 1, retry) : endGame2(p, gen, endAt));
    return at(nowMs() + 1, retry);
  }
  endGame2(p, gen, endAt);
}

function endGame2(p: Player, gen: number, intended: number): void {
  if (!generating || p.gen !== gen) return;
  const won = p.deposited === p.artifacts;
  const result = won ? 'won' : 'lost';
  send(p, 'end', request(`${p.prefix}/end`, `{"result":"${result}"}`), intended, false, () => {
    const scoreAt = nowMs() + rand(500, 1500);
    at(scoreAt, () => {
      if (!generating) return;
      const body = `{"playerTag":"P${cfg.index}x${p.id}","result":"${result}","remainingUnchecked":${p.artifacts - p.deposited}}`;
      send(p, 'score', request('/api/high-scores', body), scoreAt, false, () => newPlayer(p, nowMs()));
    });
  });
}

function newPlayer(p: Player, intended: number): void {
  if (!generating) return;
  p.gen++; // nothing of the old session may run on
  send(p, 'create', CREATE, intended, true, (status, body) => {
    if (!ok(status)) return;
    const now = nowMs();
    startSession(p, sessionIdOf(body, p.id), now + cfg.gameMs, now + rand(0, cfg.spawnEveryMs));
  });
}

function sessionIdOf(body: string, n: number): string {
  const m = /"sessionId":"([^"]+)"/.exec(body);
  return m === null ? `session_placeholder_${String(n).padStart(22, '0')}` : m[1];
}

/** Creates every player's first session before the clock starts (closed loop, not measured). */
function join(players: Player[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const ids: string[] = new Array(players.length);
    let done = 0;
    let next = 0;
    const one = () => {
      if (next >= players.length) return;
      const i = next++;
      pool.send({
        text: CREATE,
        wantsBody: true,
        onAnswer(status, body) {
          if (!ok(status)) return reject(new Error(`joining: create answered ${status} ${body.slice(0, 200)}`));
          ids[i] = sessionIdOf(body, players[i].id);
          if (++done === players.length) resolve(ids);
          else one();
        },
      });
    };
    for (let k = 0; k < Math.min(players.length, cfg.connections); k++) one();
  });
}

function tick(): void {
  // Intended times are whole milliseconds (at() callers floor them), so running slot s once the
  // clock reaches s never sends a request before its intended time.
  const now = Math.floor(clock());
  while (doneUpTo < now) {
    const slot = ++doneUpTo;
    const i = slot & (WHEEL - 1);
    const fns = wheel[i];
    if (fns === undefined) continue;
    wheel[i] = undefined;
    const lag = clock() - slot; // ≥ 0: how late this slot's requests are sent
    for (const fn of fns) {
      if (generating) lagHist.record(lag);
      fn();
    }
  }
  if (generating) setTimeout(tick, 1);
}

async function main(): Promise<void> {
  pool = new HttpPool(cfg.port, cfg.connections, cfg.maxDepth);
  await pool.open();
  const players: Player[] = Array.from({ length: cfg.players }, (_, id) => ({ id, gen: 0, prefix: '', endAt: 0, inFlight: 0, ending: false, artifacts: 0, deposited: 0 }));
  const ids = await join(players);
  parentPort!.postMessage({ kind: 'ready' });
  const go = await new Promise<{ t0Epoch: number }>((resolve) => parentPort!.once('message', resolve));
  t0 = go.t0Epoch - performance.timeOrigin;
  windowOpen = cfg.settleMs;
  windowClose = cfg.settleMs + cfg.measureMs;
  doneUpTo = Math.floor(clock()) - 1;
  players.forEach((p, i) => {
    // Entered its game `phase` ms ago: ends at gameMs − phase, drops on the 2 s grid meanwhile.
    const phase = rand(0, cfg.gameMs - 1000);
    startSession(p, ids[i], cfg.gameMs - phase, rand(0, cfg.spawnEveryMs));
  });
  setTimeout(tick, Math.max(0, -clock()));
  await new Promise((r) => setTimeout(r, Math.max(0, windowClose - clock())));
  generating = false;
  // Drain: answers to requests intended in the window, up to the grace period.
  const deadline = clock() + cfg.graceMs;
  while (pendingInWindow.size > 0 && clock() < deadline) await new Promise((r) => setTimeout(r, 5));
  const unanswered = pendingInWindow.size;
  for (const m of pendingInWindow) hist.record(clock() - m.intended); // a stall shows as latency
  pool.close();
  const result: PlayersWorkerResult = {
    histogram: Array.from(hist.counts),
    lagHistogram: Array.from(lagHist.counts),
    answered,
    non2xx,
    socketErrors,
    unanswered,
    firstNon2xx,
  };
  parentPort!.postMessage({ kind: 'result', result });
}

main().catch((error: unknown) => parentPort!.postMessage({ kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
