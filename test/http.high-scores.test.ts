/**
 * Contract tests over real HTTP: the player high-score endpoints of CONTRACT §4.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, startChild, tempDir } from './helpers/child-server.js';
import { Client, expectError, expectJson, ISO_MS } from './helpers/http.js';

const dir = tempDir('vibefixer-http-high-scores-');
const dbPath = join(dir.dir, 'db.sqlite');
let server: ChildServer;
let api: Client;

beforeAll(async () => {
  server = await startChild({ VIBEFIXER_DB_PATH: dbPath });
  api = new Client(server.url);
});

afterAll(async () => {
  await server?.stop();
  dir.cleanup();
});

const RECORD_FIELDS = ['createdAt', 'id', 'playerTag', 'remainingUnchecked', 'result'];

async function list(): Promise<any[]> {
  const reply = await api.get('/api/high-scores');
  expectJson(reply, 200);
  expect(Object.keys(reply.json)).toStrictEqual(['scores']);
  return reply.json.scores;
}

describe('GET /api/high-scores', () => {
  it('answers 200 {"scores": []} on a fresh database', async () => {
    expect(await list()).toStrictEqual([]);
  });
});

describe('POST /api/high-scores', () => {
  it('answers 201 {score:{id, createdAt, playerTag, result, remainingUnchecked}} with the tag trimmed and the result lower-cased', async () => {
    const t0 = Date.now();
    const reply = await api.post('/api/high-scores', { playerTag: '  ACE \t', result: 'LOST', remainingUnchecked: 3 });
    expectJson(reply, 201);
    expect(Object.keys(reply.json)).toStrictEqual(['score']);
    const score = reply.json.score;
    expect(Object.keys(score).sort()).toStrictEqual(RECORD_FIELDS);
    expect(Number.isInteger(score.id)).toBe(true);
    expect(score.createdAt).toMatch(ISO_MS);
    expect(Date.parse(score.createdAt)).toBeGreaterThanOrEqual(t0);
    expect(Date.parse(score.createdAt)).toBeLessThanOrEqual(Date.now());
    expect(score).toMatchObject({ playerTag: 'ACE', result: 'lost', remainingUnchecked: 3 });
    // The listed record is the same as the answered one.
    expect((await list())[0]).toStrictEqual(score);
  });

  it.each([
    ['missing', undefined, 0],
    ['null', null, 0],
    ['0', 0, 0],
    ['9999', 9999, 9999],
    ['the fraction 2.5', 2.5, 2.5],
  ])('accepts remainingUnchecked %s', async (_label, remainingUnchecked, stored) => {
    const reply = await api.post('/api/high-scores', { playerTag: 'R', result: 'won', remainingUnchecked });
    expectJson(reply, 201);
    expect(reply.json.score.remainingUnchecked).toBe(stored);
  });

  it('accepts a tag of 24 characters after trimming, measured in UTF-16 code units', async () => {
    const tag = 'T'.repeat(24);
    expect((await api.post('/api/high-scores', { playerTag: `  ${tag}  `, result: 'won' })).json.score.playerTag).toBe(tag);
    const emoji = '😀'.repeat(12); // 24 code units
    expect((await api.post('/api/high-scores', { playerTag: emoji, result: 'won' })).json.score.playerTag).toBe(emoji);
  });

  it.each([
    ['missing', { result: 'won' }],
    ['empty', { playerTag: '', result: 'won' }],
    ['blank', { playerTag: '   ', result: 'won' }],
    ['25 characters', { playerTag: 'T'.repeat(25), result: 'won' }],
    ['25 UTF-16 code units', { playerTag: '😀'.repeat(12) + 'x', result: 'won' }],
    ['a number', { playerTag: 7, result: 'won' }],
    ['null', { playerTag: null, result: 'won' }],
    ['invalid, with every other field invalid too (checked first)', { playerTag: '', result: 'draw', remainingUnchecked: -1 }],
  ])('refuses a playerTag that is %s with 400 "playerTag is required"', async (_label, body) => {
    expectError(await api.post('/api/high-scores', body), 400, 'playerTag is required');
  });

  it.each([
    ['missing', { playerTag: 'P' }],
    ['"draw"', { playerTag: 'P', result: 'draw' }],
    ['empty', { playerTag: 'P', result: '' }],
    ['null', { playerTag: 'P', result: null }],
    ['a number', { playerTag: 'P', result: 1 }],
    ['invalid, with remainingUnchecked invalid too (checked before it)', { playerTag: 'P', result: 'x', remainingUnchecked: -1 }],
  ])('refuses a result that is %s with 400 "result must be won or lost"', async (_label, body) => {
    expectError(await api.post('/api/high-scores', body), 400, 'result must be won or lost');
  });

  it.each([
    ['-1', -1],
    ['10000', 10000],
    ['the string "3"', '3'],
    ['true', true],
    ['an array', [3]],
  ])('refuses remainingUnchecked %s with 400 "remainingUnchecked must be a non-negative number"', async (_label, remainingUnchecked) => {
    expectError(
      await api.post('/api/high-scores', { playerTag: 'P', result: 'lost', remainingUnchecked }),
      400,
      'remainingUnchecked must be a non-negative number',
    );
  });

  it.each([
    ['no body', undefined],
    ['an array', [{ playerTag: 'P', result: 'won' }]],
    ['a string', 'P'],
  ])('treats %s as a body without fields (400 "playerTag is required")', async (_label, body) => {
    expectError(await api.post('/api/high-scores', body), 400, 'playerTag is required');
  });

  it('stores nothing for a refused entry', async () => {
    const before = await list();
    await api.post('/api/high-scores', { playerTag: 'NOPE', result: 'draw' });
    await api.post('/api/high-scores', { playerTag: 'NOPE', result: 'won', remainingUnchecked: -5 });
    expect(await list()).toStrictEqual(before);
  });
});

describe('the high-score list', () => {
  it('lists the newest entry first, not the best', async () => {
    const first = (await api.post('/api/high-scores', { playerTag: 'OLDER', result: 'won', remainingUnchecked: 0 })).json.score;
    const second = (await api.post('/api/high-scores', { playerTag: 'NEWER', result: 'lost', remainingUnchecked: 50 })).json.score;
    const scores = await list();
    expect(scores[0]).toStrictEqual(second);
    expect(scores[1]).toStrictEqual(first);
    expect(second.id).toBeGreaterThan(first.id);
  });

  it('returns at most 200 entries, newest first, whatever the query string', async () => {
    const posted: any[] = [];
    // In small concurrent groups: each group commits in one batch, and ids still follow arrival.
    for (let group = 0; group < 21; group++) {
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          api.post('/api/high-scores', { playerTag: `BULK${group * 10 + i}`, result: 'won', remainingUnchecked: i }),
        ),
      );
      for (const r of replies) {
        expect(r.status).toBe(201);
        posted.push(r.json.score);
      }
    }
    const scores = await list();
    expect(scores).toHaveLength(200);
    const newest = [...posted].sort((a, b) => b.id - a.id).slice(0, 200);
    expect(scores).toStrictEqual(newest);
    for (let i = 1; i < scores.length; i++) {
      expect(scores[i].createdAt <= scores[i - 1].createdAt).toBe(true);
      expect(scores[i].id).toBeLessThan(scores[i - 1].id);
    }
    const withQuery = await api.get('/api/high-scores?limit=5&order=score');
    expect(withQuery.json.scores).toStrictEqual(scores);
  });

  it('survives a restart: the same list, and new ids continue above the old ones', async () => {
    const before = await list();
    await server.stop();
    server = await startChild({ VIBEFIXER_DB_PATH: dbPath });
    api = new Client(server.url);
    expect(await list()).toStrictEqual(before);
    const next = (await api.post('/api/high-scores', { playerTag: 'AFTER', result: 'won' })).json.score;
    expect(next.id).toBeGreaterThan(before[0].id);
    expect((await list())[0]).toStrictEqual(next);
  });
});
