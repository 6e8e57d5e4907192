/**
 * Runs every row of a bench `trials` times, interleaved (trial 1 of each row, then trial 2 of
 * each row, ...) so that drift of a shared, noisy machine spreads over all rows instead of
 * biasing one. Each call of `run` is expected to start (and stop) its own fresh process.
 */
export interface Row<C> {
  label: string;
  config: C;
}

export async function runTrials<C, F>(rows: Row<C>[], trials: number, run: (row: Row<C>, trial: number) => Promise<F>): Promise<Map<string, F[]>> {
  const out = new Map<string, F[]>(rows.map((r) => [r.label, []]));
  for (let t = 1; t <= trials; t++) {
    for (const row of rows) {
      const started = Date.now();
      const figures = await run(row, t);
      out.get(row.label)!.push(figures);
      process.stderr.write(`  trial ${t}/${trials} ${row.label}: ${brief(figures)} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    }
  }
  return out;
}

function brief(f: unknown): string {
  if (typeof f !== 'object' || f === null) return String(f);
  return Object.entries(f)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : (v as number).toFixed(2)}`)
    .join(' ');
}
