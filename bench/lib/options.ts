/**
 * Command-line options every bench script shares: `--quick` (each script under ~75 s: 3 trials,
 * short windows) and `--trials=N` (override the number of fresh-process trials, N ≥ 3).
 * Anything else is refused, so a typo never silently runs the long variant.
 */
export interface BenchOptions {
  quick: boolean;
  /** Fresh-process trials per configuration: 3 in quick mode, 5 in full mode. */
  trials: number;
}

export function parseOptions(argv: string[] = process.argv.slice(2)): BenchOptions {
  let quick = false;
  let trials: number | null = null;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (/^--trials=\d+$/.test(arg)) trials = Number(arg.slice('--trials='.length));
    else throw new Error(`unknown option ${JSON.stringify(arg)} (expected --quick or --trials=N)`);
  }
  if (trials !== null && trials < 3) throw new Error('--trials must be at least 3 (a median needs a spread)');
  return { quick, trials: trials ?? (quick ? 3 : 5) };
}
