/**
 * Question: which Node HTTP client is lean enough to drive the players bench? Each candidate
 * sends POST requests (a spawn-sized JSON body) closed-loop over 64 keep-alive connections from
 * ONE thread to the uWS hello-world, and we read its requests per second and its own CPU time per
 * request (process.cpuUsage). Candidates: lib/http-pool.ts (the players client), node:http with a
 * keep-alive Agent, and fetch (the undici bundled in Node 20; the undici package itself is not a
 * dependency). Every trial starts a fresh hello-world process.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { collectHeader } from './lib/header.js';
import { cell, ratioCell } from './lib/markdown.js';
import { HttpPool } from './lib/http-pool.js';
import { parseOptions } from './lib/options.js';
import { publish } from './lib/result.js';
import { type Proc, startBaseline } from './lib/server.js';
import { byField, ratio } from './lib/stats.js';
import { runTrials } from './lib/trials.js';

const opts = parseOptions();
const LANES = 64;
const load = { warmupMs: opts.quick ? 500 : 1000, durationMs: opts.quick ? 1500 : 5000 };
const PATH = '/api/sessions/session_placeholder_0000000000000000000000/spawn';
const BODY = '{"x":412,"y":218}';

type Client = 'http-pool' | 'node:http' | 'fetch';
const rows: Array<{ label: string; config: Client }> = [
  { label: 'lib/http-pool (players client)', config: 'http-pool' },
  { label: 'node:http, keep-alive Agent', config: 'node:http' },
  { label: 'fetch (Node 20 bundled undici)', config: 'fetch' },
];

/** Starts `LANES` closed loops of `one`; returns a stop function resolving when all lanes ended. */
function lanes(one: () => Promise<void>, count: { n: number }): () => Promise<void> {
  let running = true;
  const all = Array.from({ length: LANES }, async () => {
    while (running) {
      await one();
      count.n++;
    }
  });
  return async () => {
    running = false;
    await Promise.all(all);
  };
}

async function clientFor(kind: Client, port: number): Promise<{ one: () => Promise<void>; close: () => void }> {
  if (kind === 'http-pool') {
    const pool = new HttpPool(port, LANES, 1);
    await pool.open();
    const text = `POST ${PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`;
    return {
      one: () => new Promise((resolve, reject) => pool.send({ text, wantsBody: true, onAnswer: (s) => (s === 200 ? resolve() : reject(new Error(`HTTP ${s}`))) })),
      close: () => pool.close(),
    };
  }
  if (kind === 'node:http') {
    const agent = new http.Agent({ keepAlive: true, maxSockets: LANES });
    return {
      one: () =>
        new Promise((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port, path: PATH, method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': BODY.length } }, (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
          });
          req.on('error', reject);
          req.end(BODY);
        }),
      close: () => agent.destroy(),
    };
  }
  const url = `http://127.0.0.1:${port}${PATH}`;
  return {
    one: async () => {
      const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: BODY });
      await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    },
    close: () => undefined,
  };
}

interface ClientFigures {
  rps: number;
  clientCpuPct: number;
  clientUsPerReq: number;
  serverCpuPct: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(kind: Client, proc: Proc): Promise<ClientFigures> {
  const client = await clientFor(kind, proc.port);
  const count = { n: 0 };
  const stop = lanes(client.one, count);
  try {
    await sleep(load.warmupMs);
    const n0 = count.n;
    const cpu0 = process.cpuUsage();
    const s0 = proc.cpuMs();
    const t0 = performance.now();
    await sleep(load.durationMs);
    const elapsedMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const served = count.n - n0;
    const clientUs = cpu.user + cpu.system;
    return { rps: served / (elapsedMs / 1000), clientCpuPct: clientUs / 10 / elapsedMs, clientUsPerReq: clientUs / served, serverCpuPct: ((proc.cpuMs() - s0) / elapsedMs) * 100 };
  } finally {
    await stop();
    client.close();
  }
}

const header = collectHeader(opts, { PORT: '0', HOST: '127.0.0.1' }, { lanes: LANES, thread: 'one (the main thread)', request: `POST ${PATH.replace(/placeholder_0+/, 'placeholder_…')} ${BODY}`, ...load });
const results = await runTrials(rows, opts.trials, async (row) => {
  const proc = await startBaseline('uws-hello');
  try {
    return await measure(row.config, proc);
  } finally {
    await proc.stop();
  }
});
const sum = new Map([...results].map(([label, trials]) => [label, byField(trials.map((t) => ({ ...t })))]));
const ours = sum.get(rows[0].label)!;
publish({
  name: 'client-check',
  question: 'Which Node HTTP client is lean enough for the players bench: requests/s and client CPU µs per request from one thread against the uWS hello-world.',
  header,
  tables: [
    {
      title: `closed loop, ${LANES} keep-alive connections, one thread, ${load.durationMs / 1000} s per trial`,
      columns: ['client', 'req/s', 'client CPU µs/req', 'CPU % client', 'CPU % server (hello)', '× http-pool req/s', '× http-pool µs/req'],
      rows: rows.map((r) => {
        const s = sum.get(r.label)!;
        return [r.label, cell(s.rps), cell(s.clientUsPerReq, 1), cell(s.clientCpuPct), cell(s.serverCpuPct), ratioCell(ratio(s.rps, ours.rps)), ratioCell(ratio(s.clientUsPerReq, ours.clientUsPerReq))];
      }),
    },
  ],
  targets: [],
  notes: [
    'The players bench needs ~2 requests/s per player: at 20,000 players ~41k req/s, spread over its client threads, on the same 2 cores as the server. The client with the lowest CPU per request leaves the most for the server.',
    'CPU % client = this process (one busy thread) in % of one core; at ~100 % the client, not the hello-world, set the rate.',
  ],
  raw: Object.fromEntries(results),
});
