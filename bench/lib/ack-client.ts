/**
 * A recording game client for the durability bench (the approach of test/crash.*.test.ts, kept
 * lean): concurrent players create sessions, spawn artifacts and deposit some, over keep-alive
 * node:http on 127.0.0.1; every acknowledged (2xx) write is recorded with its answer time and
 * X-Vibefixer-Seq. Anything else is NOT acknowledged: a 503 (storage down, "not confirmed yet")
 * is counted as a refusal, a request whose connection died or timed out as unknown. By default a
 * player stops at its first unacknowledged write (the server was killed); with `throughRefusals`
 * it starts a new session after a short pause and plays on (PostgreSQL killed, our server up).
 * After a restart (or on the same server), `verify` checks each acknowledged write with requests
 * that reveal it without depending on it:
 *   session  probe artifact-status with an unknown artifact: "Artifact not found" = there,
 *            "Session not found" = lost (and with it every write on that session)
 *   deposit  deposit again: 200 = the deposit was lost (400 = deposited, or the artifact is gone)
 *   spawn    artifact-status (deposited when its deposit was acknowledged, else ground): 200 =
 *            there, 404 "Artifact not found" = lost
 * Verifying leaves every acknowledged write in place, so a second `verify` (after a restart of the
 * same server) checks the same writes again.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Ack {
  kind: 'create' | 'spawn' | 'deposit';
  sessionId: string;
  artifactId?: string;
  /** performance.now() when the answer arrived. */
  ackAt: number;
  seq: number | null;
}

interface Answer {
  status: number;
  body: { error?: string; sessionId?: string; artifact?: { id: string } } | null;
  seq: number | null;
}

function post(agent: http.Agent, base: string, path: string, body: unknown): Promise<Answer> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': payload.length }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        let parsed: Answer['body'] = null;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'];
        } catch {
          /* not JSON: left null */
        }
        const seq = res.headers['x-vibefixer-seq'];
        resolve({ status: res.statusCode ?? 0, body: parsed, seq: typeof seq === 'string' ? Number(seq) : null });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

const ok = (a: Answer) => a.status >= 200 && a.status <= 299;

export interface Verdict {
  lost: Ack[];
  /** Answers that fit no expected outcome (a bug in the server or in this client). */
  unexpected: string[];
}

export interface LoadOptions {
  /** Play on after a refused (non-2xx) or unknown (connection died) write: a new session after a pause. */
  throughRefusals?: boolean;
  /** Hard bound of the load, whatever happens (ms). */
  maxMs?: number;
}

const PAUSE_AFTER_REFUSAL_MS = 50;
const DEFAULT_MAX_LOAD_MS = 120_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class AckClient {
  readonly acks: Ack[] = [];
  /** performance.now() of every 503 answer (not acknowledged: the change may or may not be applied later). */
  readonly refused503: number[] = [];
  /** Requests whose connection died or timed out: unknown, never counted as acknowledged. */
  unknown = 0;
  /** Other non-2xx answers: "status error" (none is expected from this client's writes). */
  readonly otherAnswers: string[] = [];
  private agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private stopped = false;

  constructor(private base: string) {}

  /** Runs `players` loops until `stop()`, `maxMs`, or (by default) the first unacknowledged write. */
  async load(players: number, opts: LoadOptions = {}): Promise<void> {
    this.stopped = false;
    const deadline = performance.now() + (opts.maxMs ?? DEFAULT_MAX_LOAD_MS);
    const running = () => !this.stopped && performance.now() < deadline;
    const player = async () => {
      while (running()) {
        let completed = false;
        try {
          completed = await this.playSession(running);
        } catch {
          // The connection died (server killed) or timed out: the request in flight is unknown.
          this.unknown++;
        }
        if (completed) continue;
        if (!opts.throughRefusals) return;
        await sleep(PAUSE_AFTER_REFUSAL_MS);
      }
    };
    await Promise.all(Array.from({ length: players }, player));
  }

  /** One session: create, 4 spawns, 2 deposits. False at the first write not acknowledged. */
  private async playSession(running: () => boolean): Promise<boolean> {
    const created = await post(this.agent, this.base, '/api/sessions', { requestedDurationSeconds: 600 });
    if (!this.acknowledged(created) || !created.body?.sessionId) return false;
    const sessionId = created.body.sessionId;
    this.record('create', sessionId, undefined, created);
    const artifacts: string[] = [];
    for (let i = 0; i < 4 && running(); i++) {
      const spawned = await post(this.agent, this.base, `/api/sessions/${sessionId}/spawn`, { x: 200 + i * 100, y: 218 });
      if (!this.acknowledged(spawned) || !spawned.body?.artifact) return false;
      artifacts.push(spawned.body.artifact.id);
      this.record('spawn', sessionId, spawned.body.artifact.id, spawned);
    }
    for (const artifactId of artifacts.slice(0, 2)) {
      if (!running()) return true;
      const deposited = await post(this.agent, this.base, `/api/sessions/${sessionId}/deposit`, { artifactId });
      if (!this.acknowledged(deposited)) return false;
      this.record('deposit', sessionId, artifactId, deposited);
    }
    return true;
  }

  private acknowledged(a: Answer): boolean {
    if (ok(a)) return true;
    if (a.status === 503) this.refused503.push(performance.now());
    else if (this.otherAnswers.length < 100) this.otherAnswers.push(`${a.status} ${a.body?.error ?? ''}`);
    return false;
  }

  stop(): void {
    this.stopped = true;
  }

  private record(kind: Ack['kind'], sessionId: string, artifactId: string | undefined, a: Answer): void {
    this.acks.push({ kind, sessionId, artifactId, ackAt: performance.now(), seq: a.seq });
  }

  /** Checks every acknowledged write against the (restarted) server at `base`. */
  async verify(base: string, concurrency = 16): Promise<Verdict> {
    this.base = base;
    this.agent.destroy();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const bySession = new Map<string, Ack[]>();
    for (const a of this.acks) (bySession.get(a.sessionId) ?? bySession.set(a.sessionId, []).get(a.sessionId)!).push(a);
    const verdict: Verdict = { lost: [], unexpected: [] };
    const sessions = [...bySession.values()];
    let next = 0;
    const worker = async () => {
      while (next < sessions.length) await this.verifySession(sessions[next++], verdict);
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    this.agent.destroy();
    return verdict;
  }

  private async verifySession(acks: Ack[], v: Verdict): Promise<void> {
    const id = acks[0].sessionId;
    const probe = await post(this.agent, this.base, `/api/sessions/${id}/artifact-status`, { artifactId: 'artifact_probe_none', status: 'ground' });
    if (probe.status === 404 && probe.body?.error === 'Session not found') {
      v.lost.push(...acks);
      return;
    }
    if (probe.status !== 404 || probe.body?.error !== 'Artifact not found') {
      v.unexpected.push(`probe ${id}: ${probe.status} ${JSON.stringify(probe.body)}`);
      return;
    }
    const deposits = new Map(acks.filter((a) => a.kind === 'deposit').map((a) => [a.artifactId!, a]));
    for (const spawn of acks.filter((a) => a.kind === 'spawn')) {
      const deposit = deposits.get(spawn.artifactId!);
      if (deposit !== undefined) {
        const again = await post(this.agent, this.base, `/api/sessions/${id}/deposit`, { artifactId: spawn.artifactId });
        if (again.status === 200) v.lost.push(deposit);
        else if (again.status !== 400) v.unexpected.push(`re-deposit ${spawn.artifactId}: ${again.status}`);
      }
      // The status it already has when its deposit was acknowledged: a second verify finds the same state.
      const status = await post(this.agent, this.base, `/api/sessions/${id}/artifact-status`, { artifactId: spawn.artifactId, status: deposit !== undefined ? 'deposited' : 'ground' });
      if (status.status === 404 && status.body?.error === 'Artifact not found') {
        v.lost.push(spawn);
        if (deposit !== undefined && !v.lost.includes(deposit)) v.lost.push(deposit);
      } else if (status.status !== 200) v.unexpected.push(`status ${spawn.artifactId}: ${status.status}`);
    }
  }
}
