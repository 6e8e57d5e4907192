/**
 * A game client for the crash and restart tests: plays whole rounds against a real server
 * (create, spawns, artifact-status, deposits, end, high score) from several concurrent loops,
 * and records every ACKNOWLEDGED write (a 2xx answer) with the time it was sent, the time the
 * answer arrived and the `X-Vibefixer-Seq` it carried. It keeps a model of what the server must
 * hold, and `verify()` checks a (restarted) server against that model over plain HTTP.
 *
 * Model rules:
 * - a write answered 2xx is known; a write that failed (network error, 5xx, timeout) has an
 *   UNKNOWN effect (it may or may not have been applied), and the model marks what it touched
 *   as unknown instead of guessing;
 * - writes of one loop are sequential, loops run concurrently; a loop stops at its first
 *   failure, so at most one write per loop is in the unknown state.
 *
 * Only 127.0.0.1; every request has a timeout, every loop a deadline and a count bound.
 */
import http from 'node:http';

export type WriteKind = 'create' | 'spawn' | 'status' | 'deposit' | 'end' | 'highScore';

export interface Ack {
  kind: WriteKind;
  sessionId?: string;
  artifactId?: string;
  status?: string;
  result?: 'won' | 'lost';
  highScoreId?: number;
  playerTag?: string;
  /** X-Vibefixer-Seq of the answer. */
  seq: number | null;
  /** Date.now() when the request was written / when the 2xx answer was complete. */
  sentAt: number;
  ackAt: number;
  /** Which phase of the test sent it (load round, verification, ...). */
  phase: string;
}

export type ArtifactStatus = 'inAir' | 'ground' | 'carried' | 'deposited' | 'unknown';

export interface ArtifactModel {
  id: string;
  spawn: Ack;
  status: ArtifactStatus;
  /** The last acknowledged write on this artifact (spawn, status or deposit). */
  last: Ack;
}

export interface SessionModel {
  id: string;
  create: Ack;
  artifacts: Map<string, ArtifactModel>;
  /** none: never sent; won/lost: acknowledged; unknown: sent, not acknowledged. */
  end: 'none' | 'won' | 'lost' | 'unknown';
  endAck?: Ack;
  /** A spawn without an answer may have added an artifact we do not know. */
  unknownSpawn: boolean;
}

export interface HttpAnswer {
  status: number;
  body: any;
  seq: number | null;
  sentAt: number;
  at: number;
}

export class NetworkError extends Error {}

const REQUEST_TIMEOUT_MS = 10_000;

/** One request over a keep-alive agent; rejects with NetworkError on any transport failure. */
export function request(agent: http.Agent, base: string, method: string, path: string, body?: unknown): Promise<HttpAnswer> {
  const url = new URL(path, base);
  if (url.hostname !== '127.0.0.1') throw new Error(`only 127.0.0.1 is allowed, got ${url.hostname}`);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const sentAt = Date.now();
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : { 'Content-Length': 0 },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new NetworkError(String(e))));
        res.on('aborted', () => reject(new NetworkError('response aborted')));
        res.on('end', () => {
          const at = Date.now();
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text.length > 0 ? JSON.parse(text) : null;
          } catch {
            /* keep the text */
          }
          const seqHeader = res.headers['x-vibefixer-seq'];
          const seq = typeof seqHeader === 'string' ? Number(seqHeader) : null;
          resolve({ status: res.statusCode ?? 0, body: parsed, seq, sentAt, at });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (e) => reject(new NetworkError(`${method} ${path}: ${e.message}`)));
    req.end(payload);
  });
}

export interface LoadOptions {
  /** Concurrent player loops. */
  loops: number;
  /** Hard bound of the load phase. */
  maxDurationMs: number;
  /** Bound on sessions per loop. */
  maxSessionsPerLoop: number;
  /** High scores posted in this load phase, across loops (keep the total under 200). */
  highScoreBudget: number;
  phase: string;
  /** Session duration; long enough that no stale sweep interferes (stale after 2x). */
  durationSeconds?: number;
}

export interface LoadResult {
  acks: number;
  failures: number;
  durationMs: number;
}

export interface Violation {
  what: string;
  /** The acknowledged write found missing (when one is to blame). */
  ack?: Ack;
  detail?: unknown;
}

export class GameClient {
  base: string;
  agent: http.Agent;
  readonly acks: Ack[] = [];
  readonly sessions = new Map<string, SessionModel>();
  /** Acknowledged high scores. */
  readonly highScores: Ack[] = [];
  /** Writes sent per kind (acknowledged or not): upper bounds of the counters. */
  readonly sent: Record<WriteKind, number> = { create: 0, spawn: 0, status: 0, deposit: 0, end: 0, highScore: 0 };
  readonly sentEnds = { won: 0, lost: 0 };
  /** Failed writes (no 2xx): their effect is unknown. */
  readonly failures: Array<{ kind: WriteKind; error: string; sentAt: number; at: number }> = [];
  private stopFlag = false;
  private tagCounter = 0;

  constructor(base: string) {
    this.base = base;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  }

  /** Point the client at a restarted server (fresh connections). */
  retarget(base: string): void {
    this.agent.destroy();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.base = base;
    this.stopFlag = false;
  }

  close(): void {
    this.agent.destroy();
  }

  stop(): void {
    this.stopFlag = true;
  }

  ackCount(kind: WriteKind): number {
    return this.acks.filter((a) => a.kind === kind).length;
  }

  endAcks(result: 'won' | 'lost'): number {
    return this.acks.filter((a) => a.kind === 'end' && a.result === result).length;
  }

  get(path: string): Promise<HttpAnswer> {
    return request(this.agent, this.base, 'GET', path);
  }

  // --- tracked writes: each returns true when acknowledged ------------------------------------

  private async write(kind: WriteKind, path: string, body: unknown, phase: string, expect: number): Promise<HttpAnswer | null> {
    this.sent[kind] += 1;
    const sentAt = Date.now();
    try {
      const answer = await request(this.agent, this.base, 'POST', path, body);
      if (answer.status === expect) return answer;
      this.failures.push({ kind, error: `HTTP ${answer.status} ${JSON.stringify(answer.body)}`, sentAt, at: answer.at });
      return null;
    } catch (error) {
      this.failures.push({ kind, error: String(error), sentAt, at: Date.now() });
      return null;
    }
  }

  private record(kind: WriteKind, answer: HttpAnswer, phase: string, extra: Partial<Ack>): Ack {
    const ack: Ack = { kind, seq: answer.seq, sentAt: answer.sentAt, ackAt: answer.at, phase, ...extra };
    this.acks.push(ack);
    return ack;
  }

  async create(phase: string, durationSeconds = 600): Promise<SessionModel | null> {
    const answer = await this.write('create', '/api/sessions', { requestedDurationSeconds: durationSeconds }, phase, 201);
    if (answer === null) return null;
    const id = answer.body.sessionId as string;
    const ack = this.record('create', answer, phase, { sessionId: id });
    const model: SessionModel = { id, create: ack, artifacts: new Map(), end: 'none', unknownSpawn: false };
    this.sessions.set(id, model);
    return model;
  }

  async spawn(s: SessionModel, phase: string): Promise<ArtifactModel | null> {
    const x = 170 + Math.random() * 684;
    const answer = await this.write('spawn', `/api/sessions/${s.id}/spawn`, { x, y: 218 }, phase, 201);
    if (answer === null) {
      s.unknownSpawn = true;
      return null;
    }
    const id = answer.body.artifact.id as string;
    const ack = this.record('spawn', answer, phase, { sessionId: s.id, artifactId: id });
    const artifact: ArtifactModel = { id, spawn: ack, status: 'inAir', last: ack };
    s.artifacts.set(id, artifact);
    return artifact;
  }

  async setStatus(s: SessionModel, a: ArtifactModel, status: 'ground' | 'carried', phase: string): Promise<boolean> {
    const answer = await this.write('status', `/api/sessions/${s.id}/artifact-status`, { artifactId: a.id, status }, phase, 200);
    if (answer === null) {
      a.status = 'unknown';
      return false;
    }
    a.last = this.record('status', answer, phase, { sessionId: s.id, artifactId: a.id, status });
    a.status = status;
    return true;
  }

  /** Deposits; returns the answer body on success. */
  async deposit(s: SessionModel, a: ArtifactModel, phase: string): Promise<{ score: number; remainingArtifacts: number } | null> {
    const answer = await this.write('deposit', `/api/sessions/${s.id}/deposit`, { artifactId: a.id }, phase, 200);
    if (answer === null) {
      a.status = 'unknown';
      return null;
    }
    a.last = this.record('deposit', answer, phase, { sessionId: s.id, artifactId: a.id });
    a.status = 'deposited';
    return answer.body;
  }

  async end(s: SessionModel, result: 'won' | 'lost', phase: string): Promise<boolean> {
    this.sentEnds[result] += 1;
    const answer = await this.write('end', `/api/sessions/${s.id}/end`, { result }, phase, 200);
    if (answer === null) {
      s.end = 'unknown';
      return false;
    }
    s.endAck = this.record('end', answer, phase, { sessionId: s.id, result });
    s.end = result;
    return true;
  }

  async highScore(result: 'won' | 'lost', remainingUnchecked: number, phase: string): Promise<boolean> {
    const playerTag = `p${process.pid % 1000}-${phase}-${this.tagCounter++}`.slice(0, 24);
    const answer = await this.write('highScore', '/api/high-scores', { playerTag, result, remainingUnchecked }, phase, 201);
    if (answer === null) return false;
    const ack = this.record('highScore', answer, phase, { highScoreId: answer.body.score.id as number, playerTag, result });
    this.highScores.push(ack);
    return true;
  }

  // --- load -----------------------------------------------------------------------------------

  /**
   * Runs `loops` concurrent players until stop(), the deadline, the session bound, or each
   * loop's first failure (e.g. the server was killed). Never throws.
   */
  async load(opts: LoadOptions): Promise<LoadResult> {
    const started = Date.now();
    const deadline = started + opts.maxDurationMs;
    const before = this.acks.length;
    const failuresBefore = this.failures.length;
    let budget = opts.highScoreBudget;
    const alive = () => !this.stopFlag && Date.now() < deadline;

    const player = async (loop: number) => {
      for (let n = 0; n < opts.maxSessionsPerLoop && alive(); n++) {
        const s = await this.create(opts.phase, opts.durationSeconds);
        if (s === null) return;
        const spawns = 2 + ((loop + n) % 3);
        for (let i = 0; i < spawns; i++) {
          if (!alive()) return;
          if ((await this.spawn(s, opts.phase)) === null) return;
        }
        for (const a of s.artifacts.values()) {
          if (!alive()) return;
          if (!(await this.setStatus(s, a, 'ground', opts.phase))) return;
        }
        // Carry and deposit all but (sometimes) one: the last one may stay on the ground.
        const list = [...s.artifacts.values()];
        const keep = (loop + n) % 2 === 0 ? 1 : 0;
        for (const a of list.slice(keep)) {
          if (!alive()) return;
          if (!(await this.setStatus(s, a, 'carried', opts.phase))) return;
          if ((await this.deposit(s, a, opts.phase)) === null) return;
        }
        // Some sessions stay active (to check that they still work after a restart).
        if ((loop + n) % 4 === 3) continue;
        if (!alive()) return;
        const result = keep === 0 ? 'won' : 'lost';
        if (!(await this.end(s, result, opts.phase))) return;
        if (budget > 0 && alive()) {
          budget -= 1;
          if (!(await this.highScore(result, keep, opts.phase))) return;
        }
      }
    };
    await Promise.all(Array.from({ length: opts.loops }, (_, i) => player(i)));
    return { acks: this.acks.length - before, failures: this.failures.length - failuresBefore, durationMs: Date.now() - started };
  }

  // --- verification ---------------------------------------------------------------------------

  /**
   * Checks the server against the model; returns what is wrong (empty = all acknowledged writes
   * are there). It writes through the tracked methods (a spawn on every active session, a
   * deposit of every artifact not yet deposited), so the model stays true for the next round.
   *
   * `strict` also checks the deposit answers' score (the number of `ground` artifacts) for
   * sessions whose every artifact state is known: that proves the acknowledged status changes.
   */
  async verify(phase: string, opts: { strict: boolean; concurrency?: number }): Promise<Violation[]> {
    const violations: Violation[] = [];
    const sessions = [...this.sessions.values()];
    let next = 0;
    const worker = async () => {
      while (next < sessions.length) {
        const s = sessions[next++];
        try {
          await this.verifySession(s, phase, opts.strict, violations);
        } catch (error) {
          violations.push({ what: `verification of ${s.id} failed: ${String(error)}` });
        }
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 16 }, worker));

    const list = await this.get('/api/high-scores');
    if (list.status !== 200) violations.push({ what: `GET /api/high-scores answered ${list.status}` });
    else {
      const present = new Set((list.body.scores as Array<{ id: number; playerTag: string }>).map((h) => `${h.id}|${h.playerTag}`));
      for (const h of this.highScores) {
        if (!present.has(`${h.highScoreId}|${h.playerTag}`)) violations.push({ what: 'acknowledged high score missing', ack: h });
      }
    }
    return violations;
  }

  private async verifySession(s: SessionModel, phase: string, strict: boolean, out: Violation[]): Promise<void> {
    // A probe that writes nothing: an unknown artifact id gives 404 "Artifact not found" on an
    // active session and 404 "Session not found" on an ended or unknown one.
    const probe = await request(this.agent, this.base, 'POST', `/api/sessions/${s.id}/artifact-status`, {
      artifactId: 'artifact_probe_does_not_exist',
      status: 'ground',
    });
    const error = probe.body?.error;
    const active = probe.status === 404 && error === 'Artifact not found';
    const gone = probe.status === 404 && error === 'Session not found';
    if (!active && !gone) {
      out.push({ what: `probe of ${s.id} answered ${probe.status} ${JSON.stringify(probe.body)}` });
      return;
    }
    if (gone) {
      // Ended (acknowledged or maybe) is fine; a session never ended must still be active.
      if (s.end === 'none') out.push({ what: 'acknowledged session missing (404 Session not found, end never sent)', ack: s.create });
      return;
    }
    if (s.end === 'won' || s.end === 'lost') {
      out.push({ what: 'acknowledged end missing (session still active)', ack: s.endAck });
      return;
    }
    if (s.end === 'unknown') return; // the end was not applied: fine, but we stop here

    // Active and never ended: it must accept a spawn.
    const spawned = await this.spawn(s, phase);
    if (spawned === null) {
      out.push({ what: `active session ${s.id} refused a spawn after restart`, detail: this.failures.at(-1) });
      return;
    }
    const allKnown = !s.unknownSpawn && [...s.artifacts.values()].every((a) => a.status !== 'unknown');
    for (const a of [...s.artifacts.values()]) {
      if (a === spawned) continue;
      const before = a.status;
      if (before === 'unknown') {
        // A write on it had no answer: only its existence (the acknowledged spawn) is known.
        if (!(await this.setStatus(s, a, 'ground', phase))) {
          out.push({ what: 'acknowledged spawn missing (artifact-status on it failed)', ack: a.spawn, detail: this.failures.at(-1) });
        }
        continue;
      }
      if (before === 'deposited') {
        // Must still be deposited (400) and must exist (artifact-status 200).
        const again = await request(this.agent, this.base, 'POST', `/api/sessions/${s.id}/deposit`, { artifactId: a.id });
        if (again.status === 200) {
          out.push({ what: 'acknowledged deposit missing (artifact was depositable again)', ack: a.last, detail: again.body });
          // The probe deposit changed it: keep the model true.
          a.status = 'deposited';
          continue;
        }
        if (!(await this.setStatus(s, a, 'ground', phase))) {
          out.push({ what: 'acknowledged spawn missing (artifact-status on it failed)', ack: a.spawn, detail: this.failures.at(-1) });
        }
        continue;
      }
      const expectedScore = allKnown ? this.groundCountAfterDeposit(s, a) : null;
      const deposited = await this.deposit(s, a, phase);
      if (deposited === null) {
        const failure = this.failures.at(-1);
        // 400 "Artifact not available": missing, or deposited although the model says not.
        const exists = await request(this.agent, this.base, 'POST', `/api/sessions/${s.id}/artifact-status`, { artifactId: a.id, status: 'ground' });
        if (exists.status === 404) out.push({ what: 'acknowledged spawn missing (Artifact not found)', ack: a.spawn, detail: failure });
        else out.push({ what: `artifact ${a.id} was deposited although no deposit was sent (${before})`, ack: a.last, detail: failure });
        a.status = exists.status === 200 ? 'ground' : 'unknown';
        continue;
      }
      if (strict && expectedScore !== null && deposited.score !== expectedScore) {
        out.push({
          what: `acknowledged artifact states missing in ${s.id}: deposit score ${deposited.score}, expected ${expectedScore} grounded artifacts`,
          ack: a.last,
          detail: [...s.artifacts.values()].map((x) => ({ id: x.id, status: x.status, lastSeq: x.last.seq })),
        });
      }
    }
  }

  /** The number of `ground` artifacts once `target` is deposited (the contract's score). */
  private groundCountAfterDeposit(s: SessionModel, target: ArtifactModel): number {
    let n = 0;
    for (const a of s.artifacts.values()) if (a !== target && a.status === 'ground') n += 1;
    return n;
  }
}

/** Stats as the server reports them (GET /api/sessions/stats). */
export interface Stats {
  activeCount: number;
  startedCount: number;
  endedCount: number;
  staleEndedCount: number;
  wonCount: number;
  lostCount: number;
  abandonedCount: number;
  latestCompletedAt: string | null;
  latestActivityAt: string | null;
}

export async function getStats(client: GameClient): Promise<Stats> {
  const answer = await client.get('/api/sessions/stats');
  if (answer.status !== 200) throw new Error(`GET /api/sessions/stats answered ${answer.status}`);
  return answer.body as Stats;
}

/** Lower bounds (acknowledged) and upper bounds (sent) of the counters. */
export function counterViolations(
  stats: Stats,
  client: GameClient,
  opts: { ackedBefore?: number; baseline?: Stats } = {},
): Violation[] {
  const ackedBefore = opts.ackedBefore ?? Number.POSITIVE_INFINITY;
  const base = opts.baseline;
  const out: Violation[] = [];
  const acked = (kind: WriteKind, result?: 'won' | 'lost') =>
    client.acks.filter((a) => a.kind === kind && (result === undefined || a.result === result) && a.ackAt < ackedBefore).length;
  const check = (name: keyof Stats, actual: number, min: number, max: number) => {
    const offset = base === undefined ? 0 : (base[name] as number);
    min += offset;
    max += offset;
    if (actual < min) out.push({ what: `${name} ${actual} < ${min} acknowledged` });
    if (actual > max) out.push({ what: `${name} ${actual} > ${max} sent` });
  };
  check('startedCount', stats.startedCount, acked('create'), client.sent.create);
  check('wonCount', stats.wonCount, acked('end', 'won'), client.sentEnds.won);
  check('lostCount', stats.lostCount, acked('end', 'lost'), client.sentEnds.lost);
  check('endedCount', stats.endedCount, acked('end'), client.sent.end + stats.staleEndedCount - (base?.staleEndedCount ?? 0));
  return out;
}

/**
 * The durable checks after a restart (ack=durable: nothing answered may be lost): every write the
 * client saw acknowledged is served with its strict model, the counters cover them, and the store's
 * last seq (the restarted server's `database_open` line) covers the highest acknowledged seq.
 */
export async function durableViolations(
  client: GameClient,
  openedLastSeq: number,
  phase: string,
): Promise<{ violations: Violation[]; stats: Stats; maxSeq: number }> {
  const maxSeq = Math.max(0, ...client.acks.map((a) => a.seq ?? 0));
  const violations = await client.verify(phase, { strict: true });
  const stats = await getStats(client);
  violations.push(...counterViolations(stats, client));
  if (openedLastSeq < maxSeq) violations.push({ what: `stored last_seq ${openedLastSeq} < highest acknowledged seq ${maxSeq}` });
  return { violations, stats, maxSeq };
}

export function describeAck(a: Ack | undefined, killAt?: number): string {
  if (a === undefined) return '-';
  const rel = killAt === undefined ? '' : ` ackAt=kill${a.ackAt - killAt >= 0 ? '+' : ''}${a.ackAt - killAt}ms`;
  return `${a.kind} seq=${a.seq} phase=${a.phase} session=${a.sessionId ?? '-'} artifact=${a.artifactId ?? '-'} hs=${a.highScoreId ?? '-'}${rel}`;
}

/** The first 20 violations, one line each with the acknowledged write to blame, for a failed assertion. */
export function reportViolations(violations: Violation[], killAt?: number): string {
  return violations
    .slice(0, 20)
    .map((v) => `${v.what} :: ${describeAck(v.ack, killAt)}${v.detail === undefined ? '' : ` :: ${JSON.stringify(v.detail)}`}`)
    .join('\n');
}
