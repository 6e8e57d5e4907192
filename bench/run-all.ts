/**
 * `npm run bench [-- --quick]`: runs every bench script one after the other (never two at once:
 * they measure the machine), each in its own Node process, passing the options through; then
 * rebuilds bench/RESULTS.md. A failing script is reported and the others still run.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseOptions } from './lib/options.js';

export const BENCHES = ['http-mix', 'players', 'client-check', 'create', 'stats', 'ws-mix', 'reload', 'durability', 'flush-tuning', 'tail', 'low-load'] as const;

const args = process.argv.slice(2);
parseOptions(args); // refuse unknown options before running anything
const failed: string[] = [];
const started = Date.now();
for (const name of BENCHES) {
  process.stderr.write(`\n=== ${name} ${args.join(' ')} ===\n`);
  const t0 = Date.now();
  const run = spawnSync(process.execPath, [join(import.meta.dirname, `${name}.js`), ...args], { stdio: 'inherit' });
  process.stderr.write(`=== ${name}: ${run.status === 0 ? 'done' : `FAILED (exit ${run.status ?? run.signal})`} in ${((Date.now() - t0) / 1000).toFixed(0)} s ===\n`);
  if (run.status !== 0) failed.push(name);
}
spawnSync(process.execPath, [join(import.meta.dirname, 'report.js')], { stdio: 'inherit' });
process.stderr.write(`\nall benches: ${((Date.now() - started) / 1000).toFixed(0)} s${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}\n`);
process.exitCode = failed.length ? 1 : 0;
