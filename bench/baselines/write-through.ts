/**
 * Baseline: the original VibeFixer design (CONTRACT §5). node:http; sessions held in memory and
 * every change written through at once with ONE synchronous better-sqlite3 upsert of the whole
 * session record as a JSON blob (terrain included), WAL, `synchronous` left at its default as
 * the original did (FULL on a new WAL file with better-sqlite3 12). Create also writes the stats
 * row. Only what the benches call: create, spawn, artifact-status, deposit, end (session and
 * stats rows) and POST /api/high-scores (one INSERT); minimal validation.
 * Env: PORT (0 = any), HOST, VIBEFIXER_DB_PATH, and BASELINE_SQLITE_SYNCHRONOUS (unset = the
 * original's default; FULL = one fsync per request, what "write-through" costs on a real disk).
 * Prints `{"event":"listening","port":N,"synchronous":S}`.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { generateLevel } from '../../src/game/level.js';
import { newSeed } from '../../src/game/seed.js';

interface Artifact {
  id: string;
  position: { x: number; y: number };
  status: string;
}

const db = new Database(process.env.VIBEFIXER_DB_PATH ?? 'write-through.sqlite');
db.pragma('journal_mode = WAL');
if (process.env.BASELINE_SQLITE_SYNCHRONOUS) db.pragma(`synchronous = ${process.env.BASELINE_SQLITE_SYNCHRONOUS === 'FULL' ? 'FULL' : 'NORMAL'}`);
db.exec(`
  CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, status TEXT NOT NULL, started_at TEXT NOT NULL,
    ended_at TEXT, duration_seconds INTEGER, result TEXT, data TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS session_stats (id INTEGER PRIMARY KEY CHECK (id = 1), started_count INTEGER NOT NULL,
    ended_count INTEGER NOT NULL DEFAULT 0);
  INSERT OR IGNORE INTO session_stats (id, started_count) VALUES (1, 0);
  CREATE TABLE IF NOT EXISTS high_scores (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,
    player_tag TEXT NOT NULL, result TEXT NOT NULL, remaining_unchecked REAL NOT NULL);`);
const upsert = db.prepare(`INSERT INTO sessions (id, status, started_at, ended_at, duration_seconds, result, data)
  VALUES (@id, @status, @startedAt, NULL, @durationSeconds, NULL, @data)
  ON CONFLICT (id) DO UPDATE SET status = excluded.status, data = excluded.data`);
const writeStats = db.prepare('UPDATE session_stats SET started_count = ? WHERE id = 1');
const writeEnded = db.prepare('UPDATE session_stats SET ended_count = ? WHERE id = 1');
const endSession = db.prepare('UPDATE sessions SET status = ?, ended_at = ?, result = ?, data = ? WHERE id = ?');
const insertScore = db.prepare('INSERT INTO high_scores (created_at, player_tag, result, remaining_unchecked) VALUES (?, ?, ?, ?)');

type Session = Record<string, unknown> & { id: string; artifacts: Artifact[]; score: number; remainingArtifactCount: number };
const sessions = new Map<string, Session>();
let started = 0;
let ended = 0;

function save(s: Session): void {
  upsert.run({ id: s.id, status: 'active', startedAt: s.startedAt, durationSeconds: s.durationSeconds, data: JSON.stringify(s) });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function handle(path: string, body: Record<string, unknown>): [number, unknown] {
  if (path === '/api/sessions') {
    const seed = newSeed();
    const level = generateLevel(seed);
    const duration = typeof body.requestedDurationSeconds === 'number' ? body.requestedDurationSeconds : 60;
    const s: Session = {
      id: `session_${randomBytes(16).toString('base64url')}`, seed, startedAt: new Date().toISOString(), startedAtMs: Date.now(),
      durationSeconds: duration, score: 0, playerSpeedPercent: 100, status: 'active', remainingArtifactCount: 0,
      artifacts: [], terrain: level.terrain, trashCan: level.trashCan,
    };
    sessions.set(s.id, s);
    save(s);
    writeStats.run(++started);
    return [201, { sessionId: s.id, seed, durationSeconds: duration, score: 0, playerSpeedPercent: 100, artifacts: [], terrain: level.terrain, trashCan: level.trashCan }];
  }
  if (path === '/api/high-scores') {
    const tag = typeof body.playerTag === 'string' ? body.playerTag.trim() : '';
    if (tag === '' || tag.length > 24) return [400, { error: 'playerTag is required' }];
    const result = String(body.result).toLowerCase();
    if (result !== 'won' && result !== 'lost') return [400, { error: 'result must be won or lost' }];
    const remaining = body.remainingUnchecked == null ? 0 : Number(body.remainingUnchecked);
    const createdAt = new Date().toISOString();
    const id = insertScore.run(createdAt, tag, result, remaining).lastInsertRowid;
    return [201, { score: { id: Number(id), createdAt, playerTag: tag, result, remainingUnchecked: remaining } }];
  }
  const m = /^\/api\/sessions\/([^/]+)\/(spawn|artifact-status|deposit|end)$/.exec(path);
  const s = m ? sessions.get(m[1]) : undefined;
  if (!m || !s) return [404, { error: 'Session not found' }];
  if (m[2] === 'spawn') {
    const a: Artifact = { id: `artifact_${s.artifacts.length}_${Date.now()}`, position: { x: Number(body.x), y: Number(body.y) }, status: 'inAir' };
    s.artifacts.push(a);
    s.remainingArtifactCount = s.artifacts.filter((x) => x.status !== 'deposited').length;
    save(s);
    return [201, { artifact: a }];
  }
  if (m[2] === 'end') {
    const result = body.result == null ? null : String(body.result).toLowerCase();
    if (result !== null && result !== 'won' && result !== 'lost') return [400, { error: 'result must be won or lost' }];
    sessions.delete(s.id);
    s.status = 'ended';
    endSession.run('ended', new Date().toISOString(), result, JSON.stringify(s), s.id);
    writeEnded.run(++ended);
    return [200, { finalScore: s.score, artifactsDeposited: s.artifacts.filter((x) => x.status === 'deposited').length }];
  }
  const a = s.artifacts.find((x) => x.id === body.artifactId);
  if (m[2] === 'artifact-status') {
    if (!a) return [404, { error: 'Artifact not found' }];
    a.status = String(body.status).toLowerCase();
    s.remainingArtifactCount = s.artifacts.filter((x) => x.status !== 'deposited').length;
    save(s);
    return [200, { ok: true }];
  }
  if (!a || a.status === 'deposited') return [400, { error: 'Artifact not available' }];
  a.status = 'deposited';
  s.remainingArtifactCount = Math.max(0, s.remainingArtifactCount - 1);
  s.score = s.artifacts.filter((x) => x.status === 'ground').length;
  save(s);
  return [200, { score: s.score, remainingArtifacts: s.remainingArtifactCount }];
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.method !== 'POST') return send(res, 404, { error: 'Not Found' });
    let body: Record<string, unknown> = {};
    try {
      if (chunks.length > 0) body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return send(res, 400, { error: 'Invalid JSON' });
    }
    const [status, answer] = handle(req.url ?? '/', body);
    send(res, status, answer);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ event: 'listening', port, synchronous: db.pragma('synchronous', { simple: true }) })}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  db.close();
  process.exit(0);
});
