/**
 * One WebSocket load-client thread (started by ws-load.ts): a few `ws` sockets, each with `depth`
 * requests always outstanding ("slots"). Each slot plays the write mix — session.spawn →
 * session.artifactStatus(ground) → (carried) → session.deposit — taking the next session of this
 * thread's pool at each spawn and the artifact id from the spawn answer. Answers are matched by
 * `id` (the slot number), timed, and counted only inside the measured window.
 *
 * Protocol (README, "WebSocket API"): request {id, op, ...args} → answer {id, ok, ...}; JSON in text
 * frames or msgpack in binary frames. Against the echo baseline the "answer" is the request
 * itself, so missing ids fall back to placeholders and the same bytes keep flowing.
 *
 *   main ──{go}──► warm-up ─► measure ─► drain ─► {result} ──► main
 */
import { Packr } from 'msgpackr';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { LatencyHistogram } from './histogram.js';

export interface WsWorkerData {
  url: string;
  sockets: number;
  depth: number;
  encoding: 'json' | 'msgpack';
  /** Sessions this thread creates (over its own sockets) before the load. */
  pool: number;
  sessionSeconds: number;
  warmupMs: number;
  durationMs: number;
}

export interface WsWorkerResult {
  answers: number;
  errors: number;
  elapsedMs: number;
  spawns: number;
  pool: number;
  histogram: number[];
  closeCodes: number[];
}

type Msg = Record<string, unknown>;
const packr = new Packr({ useRecords: false });
const cfg = workerData as WsWorkerData;
const binary = cfg.encoding === 'msgpack';
const encode = (m: Msg): string | Buffer => (binary ? packr.pack(m) : JSON.stringify(m));
const decode = (data: WebSocket.RawData): Msg => {
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
  return (binary ? packr.unpack(buf) : JSON.parse(buf.toString('utf8'))) as Msg;
};

interface Slot {
  ws: WebSocket;
  step: number;
  sessionId: string;
  artifactId: string;
  sentAt: number;
}

const hist = new LatencyHistogram();
let measuring = false;
let running = true;
let answers = 0;
let errors = 0;
let spawns = 0;
const closeCodes: number[] = [];

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(cfg.url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    ws.on('close', (code) => running && closeCodes.push(code));
  });
}

/** Creates `count` sessions over `ws` with `depth` creates in flight; placeholder ids for the echo. */
function createPool(ws: WebSocket, count: number, base: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const ids: string[] = [];
    let sent = 0;
    const send = () => ws.send(encode({ id: sent++, op: 'session.create', requestedDurationSeconds: cfg.sessionSeconds }), { binary });
    const onMessage = (data: WebSocket.RawData) => {
      const m = decode(data);
      if (m.ok === false) return reject(new Error(`session.create failed: ${JSON.stringify(m)}`));
      ids.push(typeof m.sessionId === 'string' ? m.sessionId : `session_placeholder_${base + ids.length}`);
      if (ids.length === count) {
        ws.off('message', onMessage);
        resolve(ids);
      } else if (sent < count) send();
    };
    ws.on('message', onMessage);
    for (let i = 0; i < Math.min(cfg.depth, count); i++) send();
  });
}

function next(slot: Slot, id: number, pool: string[], cursor: { i: number }): void {
  let m: Msg;
  switch (slot.step) {
    case 0:
      slot.sessionId = pool[cursor.i++ % pool.length];
      spawns++;
      m = { id, op: 'session.spawn', sessionId: slot.sessionId, x: 170 + ((cursor.i * 37) % 684), y: 218 };
      break;
    case 1:
      m = { id, op: 'session.artifactStatus', sessionId: slot.sessionId, artifactId: slot.artifactId, status: 'ground' };
      break;
    case 2:
      m = { id, op: 'session.artifactStatus', sessionId: slot.sessionId, artifactId: slot.artifactId, status: 'carried' };
      break;
    default:
      m = { id, op: 'session.deposit', sessionId: slot.sessionId, artifactId: slot.artifactId };
  }
  slot.sentAt = performance.now();
  slot.ws.send(encode(m), { binary });
}

async function main(): Promise<void> {
  const sockets = await Promise.all(Array.from({ length: cfg.sockets }, open));
  const perSocket = Math.ceil(cfg.pool / cfg.sockets);
  const pool = (await Promise.all(sockets.map((ws, i) => createPool(ws, perSocket, i * perSocket)))).flat();
  const slots: Slot[] = [];
  const cursor = { i: 0 };
  for (const ws of sockets) {
    const first = slots.length;
    for (let d = 0; d < cfg.depth; d++) slots.push({ ws, step: 0, sessionId: '', artifactId: 'artifact_0_placeholder', sentAt: 0 });
    ws.on('message', (data) => {
      const m = decode(data);
      const id = m.id as number;
      const slot = slots[id];
      if (slot === undefined || id < first || id >= first + cfg.depth) return; // a push, not an answer
      if (measuring) {
        answers++;
        if (m.ok === false) errors++;
        hist.record(performance.now() - slot.sentAt);
      }
      if (slot.step === 0) {
        const artifact = m.artifact as { id?: string } | undefined;
        // A failed spawn restarts the cycle; the echo has no artifact and keeps the placeholder.
        if (m.ok === false) slot.step = -1;
        else if (typeof artifact?.id === 'string') slot.artifactId = artifact.id;
      }
      slot.step = (slot.step + 1) % 4;
      if (running) next(slot, id, pool, cursor);
    });
  }
  parentPort!.postMessage({ kind: 'ready' });
  await new Promise<void>((resolve) => parentPort!.once('message', () => resolve()));

  slots.forEach((slot, i) => next(slot, i, pool, cursor));
  await new Promise((r) => setTimeout(r, cfg.warmupMs));
  measuring = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, cfg.durationMs));
  measuring = false;
  const elapsedMs = performance.now() - started;
  running = false;
  await new Promise((r) => setTimeout(r, 200)); // let answers in flight arrive before closing
  for (const ws of sockets) ws.terminate();
  const result: WsWorkerResult = { answers, errors, elapsedMs, spawns, pool: pool.length, histogram: Array.from(hist.counts), closeCodes };
  parentPort!.postMessage({ kind: 'result', result });
}

main().catch((error: unknown) => parentPort!.postMessage({ kind: 'error', message: error instanceof Error ? error.message : String(error) }));
