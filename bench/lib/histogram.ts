/**
 * A latency histogram with log-spaced buckets (2 % wide, from 1 µs to ~1 min): recording is one
 * Math.log and an array increment, percentiles are within 2 %, and histograms from several
 * client threads merge by adding their count arrays. Used by the WebSocket and players clients
 * (the wrk benches use wrk's own percentiles).
 */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
const MIN_US = 1;
const BUCKETS = Math.ceil(Math.log(60_000_000 / MIN_US) / LOG_GROWTH) + 1;

export class LatencyHistogram {
  readonly counts: Float64Array;
  total = 0;

  constructor(counts?: ArrayLike<number>) {
    this.counts = new Float64Array(BUCKETS);
    if (counts) this.add(counts);
  }

  /** Records one latency in milliseconds. */
  record(ms: number): void {
    const us = ms * 1000;
    const i = us <= MIN_US ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(us / MIN_US) / LOG_GROWTH));
    this.counts[i] += 1;
    this.total += 1;
  }

  /** Adds another histogram's counts (e.g. from a client thread). */
  add(counts: ArrayLike<number>): void {
    for (let i = 0; i < BUCKETS; i++) {
      this.counts[i] += counts[i] ?? 0;
      this.total += counts[i] ?? 0;
    }
  }

  /** Upper bound of the bucket holding the p-th percentile (p in 0..100), in ms. */
  percentile(p: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return (MIN_US * GROWTH ** i) / 1000;
    }
    return (MIN_US * GROWTH ** (BUCKETS - 1)) / 1000;
  }
}
