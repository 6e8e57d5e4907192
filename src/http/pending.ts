/**
 * An answer owed on a uWebSockets.js response, and HTTP/1.1 pipelining.
 *
 * uWS supports only synchronous pipelining: when it parses a request while the previous answer on
 * the same connection is still owed, it closes the connection at once (nothing written, not even
 * the answers already corked; "async pipelining" is not supported upstream, uNetworking/
 * uWebSockets.js#277 and #1301). Answers here are owed past the handler's return when a write
 * waits for its commit (ack=durable), a cold session is loaded first, or /metrics is collected.
 * So, while an answer is owed:
 * - the socket is paused: uWS reads nothing more from it, and a request the client pipelined in a
 *   later packet waits in the kernel until this answer is written (then it is read, parsed and
 *   answered in order);
 * - a write that will be held runs on the next turn (`runSoon`, through dispatch's `schedule`), not
 *   inside uWS's read: if a request came right behind it in the same read, uWS has dropped the
 *   connection by then and the write is not applied. Refusals and invalid args are answered at once.
 * Never: a connection that the server drops after applying a write it did not answer.
 */
import type { HttpResponse } from 'uWebSockets.js';

export class PendingAnswer {
  aborted = false;
  private paused = false;

  constructor(private readonly res: HttpResponse) {
    res.onAborted(() => {
      this.aborted = true;
    });
  }

  /** Stops reading from the socket until `answer`; call once the request's body is complete. */
  hold(): void {
    if (this.aborted || this.paused) return;
    this.paused = true;
    this.res.pause();
  }

  /** Writes the answer (corked, as it may come from a commit callback) unless aborted. */
  answer(write: (res: HttpResponse) => void): void {
    if (this.aborted) return;
    this.res.cork(() => {
      if (this.paused) {
        this.paused = false;
        this.res.resume();
      }
      write(this.res);
    });
  }

  /** Runs `fn` after uWS has finished this read, unless the connection was dropped meanwhile. */
  runSoon(fn: () => void): void {
    this.hold();
    setImmediate(() => {
      if (!this.aborted) fn();
    });
  }
}
