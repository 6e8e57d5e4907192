/**
 * Text that is stored must read back as it was answered: strings that are not well-formed Unicode
 * (a lone surrogate) are refused at the door with 400 over HTTP and WebSocket (JSON and msgpack
 * frames), and a JSON body is accepted only as well-formed UTF-8 without a byte-order mark, as in
 * the original (400 `Invalid JSON`). Nothing refused changes the state, before or after a restart.
 */
import { describe, expect, it } from 'vitest';
import type { ChildServer } from './helpers/child-server.js';
import { Client, serverForFile } from './helpers/http.js';
import { closedWithin, packr, WsClient } from './ws.helpers.js';

let server: ChildServer;
let api: Client;
const lifecycle = serverForFile('vibefixer-text-', (s, a) => {
  server = s;
  api = a;
});

const LONE = ['\ud800', 'ok\udfff', '\udc00\ud800', 'a\ud83d'];

async function rawPost(path: string, body: Buffer): Promise<{ status: number; json: any }> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', body: new Uint8Array(body), headers: { 'Content-Type': 'application/json' } });
  return { status: res.status, json: await res.json() };
}

async function tags(): Promise<string[]> {
  const reply = await api.get('/api/high-scores');
  return (reply.json.scores as Array<{ playerTag: string }>).map((s) => s.playerTag);
}

describe('well-formed text at the door', () => {
  it('refuses a playerTag with a lone surrogate over HTTP with 400 and stores nothing', async () => {
    for (const tag of LONE) {
      // JSON.stringify escapes a lone surrogate as \udXXX: the body is ASCII, valid JSON.
      const reply = await api.post('/api/high-scores', { playerTag: tag, result: 'won' });
      expect(reply.status, JSON.stringify(tag)).toBe(400);
      expect(reply.json).toEqual({ error: 'playerTag is required' });
    }
    expect(await tags()).toEqual([]);
  });

  it('still accepts any well-formed tag, astral characters (surrogate pairs) included', async () => {
    const reply = await api.post('/api/high-scores', { playerTag: ' 🎮 Zoë 漢字 ', result: 'won' });
    expect(reply.status).toBe(201);
    expect(await tags()).toEqual(['🎮 Zoë 漢字']);
  });

  it('refuses a JSON body with a byte-order mark with 400 Invalid JSON, as the original', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ playerTag: 'bom', result: 'won' }))]);
    expect(await rawPost('/api/high-scores', body)).toEqual({ status: 400, json: { error: 'Invalid JSON' } });
    const before = (await api.get('/api/sessions/stats')).json.startedCount;
    expect(await rawPost('/api/sessions', Buffer.from([0xef, 0xbb, 0xbf]))).toEqual({ status: 400, json: { error: 'Invalid JSON' } });
    expect((await api.get('/api/sessions/stats')).json.startedCount).toBe(before);
  });

  it('refuses a body that is not UTF-8 with 400 Invalid JSON instead of storing U+FFFD', async () => {
    const body = Buffer.concat([Buffer.from('{"playerTag":"ab'), Buffer.from([0xff, 0xfe]), Buffer.from('","result":"won"}')]);
    expect(await rawPost('/api/high-scores', body)).toEqual({ status: 400, json: { error: 'Invalid JSON' } });
    // A surrogate encoded as UTF-8 bytes (CESU-8 style) is not UTF-8 either.
    const cesu = Buffer.concat([Buffer.from('{"playerTag":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('","result":"won"}')]);
    expect(await rawPost('/api/high-scores', cesu)).toEqual({ status: 400, json: { error: 'Invalid JSON' } });
    expect(await tags()).toEqual(['🎮 Zoë 漢字']);
  });

  it('refuses a lone surrogate in a WebSocket JSON frame and in a msgpack frame with a 400 answer', async () => {
    const ws = await WsClient.open(server.port);
    try {
      const json = await ws.request('highScores.add', { playerTag: 'x\ud800', result: 'won' });
      expect(json).toMatchObject({ ok: false, error: { status: 400, message: 'playerTag is required' } });
      // msgpack strings are UTF-8: a lone surrogate cannot be encoded (msgpackr writes U+FFFD), and
      // bytes that are not UTF-8 (here a UTF-8-encoded surrogate, what some encoders emit) decode to
      // U+FFFD. Either way the server sees well-formed text, answers it and stores exactly that.
      const frame = packr.pack({ id: 'raw', op: 'highScores.add', playerTag: 'SURR', result: 'won' });
      const at = Buffer.from(frame).indexOf('SURR');
      const bytes = Buffer.concat([Buffer.from(frame.subarray(0, at - 1)), Buffer.from([0xa4, 0x79, 0xed, 0xa0, 0x80]), Buffer.from(frame.subarray(at + 4))]);
      const waited = ws.frames.length;
      ws.sendRaw(bytes, true);
      await ws.waitFrames(waited + 1);
      expect(ws.frames[waited].frame).toMatchObject({ id: 'raw', ok: true, score: { playerTag: 'y\ufffd\ufffd\ufffd' } });
      // A string id that is not well-formed is not echoed.
      const before = ws.frames.length;
      ws.sendRaw(JSON.stringify({ id: '\udead', op: 'stats.get' }), false);
      await ws.waitFrames(before + 1);
      expect(ws.frames[before].frame).toEqual({ id: null, ok: false, error: { status: 400, message: 'Invalid id' } });
    } finally {
      ws.close();
    }
    expect(await tags()).not.toContain('x\ud800');
  });

  it('closes a WebSocket whose text frame starts with a byte-order mark with 4400 Invalid JSON, as HTTP answers 400', async () => {
    const ws = await WsClient.open(server.port);
    ws.sendRaw(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ id: 1, op: 'highScores.add', playerTag: 'bom', result: 'won' }))]), false);
    expect(await closedWithin(ws)).toEqual({ code: 4400, reason: 'Invalid JSON' });
    expect(await tags()).not.toContain('bom');
  });

  it('reads every stored tag back unchanged after a restart', async () => {
    const before = await tags();
    await lifecycle.restart();
    expect(await tags()).toEqual(before);
    expect(before).toEqual(expect.arrayContaining(['🎮 Zoë 漢字', 'y\ufffd\ufffd\ufffd']));
  });
});
