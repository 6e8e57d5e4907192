/**
 * The part of autocannon 8's programmatic API the benches use (the package ships no types).
 * `setupRequest` runs just before each request is written; `onResponse` right after its
 * response is parsed, before the next request of that connection is built (pipelining 1).
 * `context` is per connection and is reset each time the `requests` list wraps around.
 */
declare module 'autocannon' {
  namespace autocannon {
    interface RequestSpec {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
    }
    interface Request extends RequestSpec {
      setupRequest?(req: RequestSpec, context: Record<string, unknown>): RequestSpec | null | undefined;
      onResponse?(status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>): void;
    }
    interface Options {
      url: string;
      connections?: number;
      pipelining?: number;
      /** Seconds. */
      duration?: number;
      /** Milliseconds between samples; the duration is only checked at each sample. */
      sampleInt?: number;
      /** Total requests; overrides duration. */
      amount?: number;
      /** Seconds before a request is counted as a timeout. */
      timeout?: number;
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      requests?: Request[];
    }
    interface Histogram {
      average: number;
      mean: number;
      stddev: number;
      min: number;
      max: number;
      total: number;
      p50: number;
      p99: number;
    }
    interface Result {
      /** Seconds. */
      duration: number;
      requests: Histogram & { sent: number };
      latency: Histogram;
      errors: number;
      timeouts: number;
      non2xx: number;
      '2xx': number;
    }
  }
  function autocannon(opts: autocannon.Options): Promise<autocannon.Result>;
  export default autocannon;
}
