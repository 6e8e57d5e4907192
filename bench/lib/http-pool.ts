/**
 * A lean HTTP/1.1 client for the players bench: a fixed pool of keep-alive connections to one
 * 127.0.0.1 port, requests written as ready-made strings, answers parsed just enough (status,
 * Content-Length, the body only when asked for). node:http and undici cost far more CPU per
 * request than this, and the client must not be what a bench measures.
 * A request goes to the connection that has been idle longest (a FIFO, so every connection stays
 * busy and none reaches the server's idle timeout); when none is idle, it is pipelined onto the
 * least-loaded connection up to `maxDepth` in flight, else it waits in a FIFO here (the wait
 * counts in its latency: the players bench measures from the intended send time). The players
 * bench uses maxDepth 1: uWS closes a connection that sends a request while an earlier answer is
 * still pending (an ack=durable answer waits for its commit).
 * Answers on a connection arrive in request order, so each connection keeps a FIFO of its own.
 * A connection that closes with requests in flight fails them (status 0) and is replaced.
 */
import net from 'node:net';

export interface PoolRequest {
  /** The whole request: request line, headers and body (ASCII). */
  text: string;
  wantsBody: boolean;
  /** status 0 = the connection failed before the answer. */
  onAnswer(status: number, body: string): void;
}

class Conn {
  readonly socket: net.Socket;
  readonly inFlight: PoolRequest[] = [];
  rest: Buffer | null = null;
  alive = true;

  constructor(
    private readonly pool: HttpPool,
    port: number,
    onOpen: (c: Conn) => void,
  ) {
    this.socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.once('connect', () => onOpen(this));
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', () => undefined); // 'close' follows and handles it
    this.socket.on('close', () => this.pool.closed(this));
  }

  send(r: PoolRequest): void {
    this.inFlight.push(r);
    this.socket.write(r.text, 'latin1');
  }

  private onData(chunk: Buffer): void {
    let buf = this.rest === null ? chunk : Buffer.concat([this.rest, chunk]);
    let off = 0;
    for (;;) {
      const headEnd = buf.indexOf('\r\n\r\n', off, 'latin1');
      if (headEnd < 0) break;
      const head = buf.toString('latin1', off, headEnd);
      let at = head.indexOf('Content-Length:');
      if (at < 0) at = head.toLowerCase().indexOf('content-length:');
      if (at < 0) {
        this.socket.destroy(new Error('answer without Content-Length'));
        return;
      }
      const end = headEnd + 4 + parseInt(head.slice(at + 15), 10);
      if (end > buf.length) break;
      const r = this.inFlight.shift();
      if (r === undefined) {
        this.socket.destroy(new Error('answer without a request'));
        return;
      }
      r.onAnswer(Number(head.slice(9, 12)), r.wantsBody ? buf.toString('latin1', headEnd + 4, end) : '');
      off = end;
    }
    this.rest = off >= buf.length ? null : buf.subarray(off);
    if (off > 0 && this.rest !== null) this.rest = Buffer.from(this.rest); // do not pin the old chunk
    if (this.inFlight.length === 0) this.pool.idle(this);
  }
}

export class HttpPool {
  private readonly conns = new Set<Conn>();
  /** Idle connections, longest idle first (a ring would be faster; it is short-lived and small). */
  private idleQueue: Conn[] = [];
  private idleHead = 0;
  private readonly waiting: PoolRequest[] = [];
  private waitingHead = 0;
  private rr = 0;
  private list: Conn[] = [];
  /** Connections that closed with requests in flight, and replacements opened. */
  failures = 0;
  private stopped = false;

  constructor(
    private readonly port: number,
    private readonly size: number,
    private readonly maxDepth: number,
  ) {}

  /** Opens every connection; resolves when all are connected. */
  open(): Promise<void> {
    const opens = Array.from({ length: this.size }, () => new Promise<void>((resolve) => this.add(() => resolve())));
    return Promise.all(opens).then(() => undefined);
  }

  private add(onOpen?: () => void): void {
    const c = new Conn(this, this.port, (conn) => {
      this.idle(conn);
      onOpen?.();
    });
    this.conns.add(c);
    this.list = [...this.conns];
  }

  send(r: PoolRequest): void {
    while (this.idleHead < this.idleQueue.length) {
      const c = this.idleQueue[this.idleHead++];
      if (c.alive && c.inFlight.length === 0) return c.send(r);
    }
    if (this.idleHead > 1024) {
      this.idleQueue = this.idleQueue.slice(this.idleHead);
      this.idleHead = 0;
    }
    // No idle connection: pipeline onto the least-loaded of a few, within maxDepth.
    let best: Conn | null = null;
    for (let i = 0; i < Math.min(8, this.list.length); i++) {
      const c = this.list[this.rr++ % this.list.length];
      if (c.alive && c.inFlight.length < this.maxDepth && (best === null || c.inFlight.length < best.inFlight.length)) best = c;
    }
    if (best !== null) return best.send(r);
    this.waiting.push(r);
  }

  /** Called by a connection whose last answer arrived (or that just opened). */
  idle(c: Conn): void {
    if (this.waitingHead < this.waiting.length) {
      const r = this.waiting[this.waitingHead++];
      if (this.waitingHead === this.waiting.length) {
        this.waiting.length = 0;
        this.waitingHead = 0;
      }
      return c.send(r);
    }
    this.idleQueue.push(c);
  }

  closed(c: Conn): void {
    c.alive = false;
    this.conns.delete(c);
    this.list = [...this.conns];
    const lost = c.inFlight.splice(0);
    if (lost.length > 0) this.failures++;
    for (const r of lost) r.onAnswer(0, '');
    if (!this.stopped) this.add();
  }

  /** Requests waiting for a connection. */
  get queued(): number {
    return this.waiting.length - this.waitingHead;
  }

  close(): void {
    this.stopped = true;
    for (const c of this.conns) c.socket.destroy();
  }
}
