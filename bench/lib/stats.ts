/**
 * Summaries of per-trial figures: median and spread (min–max, and the quartiles), and the ratio
 * of two medians. Pure functions; formatting lives in markdown.ts.
 */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
}

/** Linear-interpolated quantile of sorted values (q in 0..1). */
function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(values: number[]): Summary {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN, q1: NaN, q3: NaN };
  const sorted = [...finite].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
  };
}

/** Ratio of two medians (NaN when the baseline is 0 or missing). */
export function ratio(value: Summary, baseline: Summary): number {
  return baseline.median === 0 ? NaN : value.median / baseline.median;
}

/** Summaries of each field across trials: `byField([{a:1},{a:2}]).a`. */
export function byField<K extends string>(trials: Array<Record<K, number>>): Record<K, Summary> {
  const out = {} as Record<K, Summary>;
  if (trials.length === 0) return out;
  for (const key of Object.keys(trials[0]) as K[]) out[key] = summarize(trials.map((t) => t[key]));
  return out;
}
