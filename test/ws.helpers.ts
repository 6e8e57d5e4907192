/**
 * A small WebSocket test client on `ws` for test/ws.*.test.ts: requests matched to answers by
 * id, pushes collected per topic, every frame kept in arrival order (to check what came before
 * an answer), and the close code. Text frames are JSON, binary frames plain msgpack.
 */
import { Packr } from 'msgpackr';
import WebSocket from 'ws';

export const packr = new Packr({ useRecords: false });

export type Frame = Record<string, any>;

export interface Closed {
  code: number;
  reason: string;
}

export interface Push {
  topic: string;
  data: any;
  binary: boolean;
}

let counter = 0;

export class WsClient {
  /** Every decoded frame in arrival order, with its encoding. */
  readonly frames: Array<{ frame: Frame; binary: boolean }> = [];
  readonly pushes: Push[] = [];
  readonly closed: Promise<Closed>;
  private readonly waiting = new Map<unknown, (frame: Frame) => void>();
  private readonly pushWaiters: Array<{ match: (p: Push) => boolean; resolve: (p: Push) => void }> = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer, isBinary) => {
      const frame = (isBinary ? packr.unpack(data) : JSON.parse(data.toString('utf8'))) as Frame;
      this.frames.push({ frame, binary: isBinary });
      if ('topic' in frame && 'data' in frame && !('ok' in frame)) {
        const push = { topic: frame.topic as string, data: frame.data, binary: isBinary };
        this.pushes.push(push);
        for (const w of this.pushWaiters.splice(0)) (w.match(push) ? w.resolve(push) : this.pushWaiters.push(w));
        return;
      }
      const resolve = this.waiting.get(frame.id);
      this.waiting.delete(frame.id);
      resolve?.(frame);
    });
  }

  /** Opens a client; rejects with the HTTP status when the upgrade is refused. */
  static open(port: number, headers: Record<string, string> = {}): Promise<WsClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers, perMessageDeflate: false });
    const client = new WsClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode }));
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  /** Sends `{id, op, ...args}` and resolves with the answer of that id. */
  request(op: string, args: Record<string, unknown> = {}, binary = false, timeoutMs = 10_000): Promise<Frame> {
    const id = `r${++counter}`;
    return this.send({ id, op, ...args }, binary, timeoutMs);
  }

  /** Sends a frame that carries its own `id` and resolves with the answer carrying it. */
  send(frame: Frame, binary = false, timeoutMs = 10_000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(frame).slice(0, 200)}`)), timeoutMs);
      this.waiting.set(frame.id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.sendRaw(binary ? packr.pack(frame) : JSON.stringify(frame), binary);
    });
  }

  sendRaw(data: string | Uint8Array, binary: boolean): void {
    this.ws.send(data, { binary });
  }

  /** Resolves with the first push (already received or future) that matches. */
  waitPush(match: (p: Push) => boolean, timeoutMs = 5_000): Promise<Push> {
    const found = this.pushes.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('push not received in time')), timeoutMs);
      this.pushWaiters.push({
        match,
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p);
        },
      });
    });
  }

  /** Resolves once `count` frames have arrived in total (bounded by `timeoutMs`). */
  async waitFrames(count: number, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      if (Date.now() > until) throw new Error(`only ${this.frames.length} of ${count} frames arrived`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.ws.close();
  }
}

/** Waits for `closed` up to `timeoutMs`; rejects if the socket stays open. */
export function closedWithin(client: WsClient, timeoutMs = 5_000): Promise<Closed> {
  return Promise.race([
    client.closed,
    new Promise<Closed>((_, reject) => setTimeout(() => reject(new Error('socket still open')), timeoutMs)),
  ]);
}

/** Reads one gauge from the Prometheus text of /metrics. */
export async function gauge(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`${name} not in /metrics`);
  return Number(line.slice(name.length + 1));
}
