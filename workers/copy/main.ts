/**
 * `npm run copy-db -- --from <source> --to <target>`: copies a whole database into an empty one
 * (workers/copy/copy.ts), printing progress on stderr and the verified counts on stdout. Stop the
 * server first: neither database may be in use.
 *
 *   <source>, <target>:  postgres://user:password@host:5432/database   (PostgreSQL; created tables if empty)
 *                        sqlite:<path>                                 (a SQLite file of the same schema)
 *
 * Exit 0: copied and verified. Exit 1: nothing or part was copied (the target is then not empty;
 * drop and recreate it before trying again). Exit 2: bad arguments.
 *
 * Never: print a password (locations are shown without it), or write into a non-empty target.
 */
import { parseArgs } from 'node:util';
import { messageOf } from '../failure.js';
import { openPostgresCopyEndpoint } from '../postgres/copy.js';
import { safeLocation } from '../postgres/open.js';
import { copyDatabase } from './copy.js';
import { openSqliteCopyEndpoint } from '../sqlite/copy.js';
import type { CopyEndpoint } from './endpoint.js';

const USAGE = 'usage: npm run copy-db -- --from <postgres://…|sqlite:path> --to <postgres://…|sqlite:path>';
/** Generous: one copy batch carries up to 500 sessions with their artifacts and levels. */
const COPY_STATEMENT_TIMEOUT_MS = 120_000;

export async function openEndpoint(spec: string): Promise<CopyEndpoint> {
  if (/^postgres(ql)?:\/\//.test(spec)) {
    return openPostgresCopyEndpoint({ url: spec, poolSize: 2, statementTimeoutMs: COPY_STATEMENT_TIMEOUT_MS });
  }
  if (spec.startsWith('sqlite:')) return openSqliteCopyEndpoint(spec.slice('sqlite:'.length));
  throw new Error(`cannot tell what ${safeLocation(spec)} is: expected postgres://… or sqlite:<path>`);
}

async function main(argv: string[]): Promise<number> {
  let from: string | undefined;
  let to: string | undefined;
  try {
    ({ from, to } = parseArgs({ args: argv, options: { from: { type: 'string' }, to: { type: 'string' } }, strict: true }).values);
  } catch (err) {
    process.stderr.write(`${messageOf(err)}\n${USAGE}\n`);
    return 2;
  }
  if (from === undefined || to === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const opened: CopyEndpoint[] = [];
  try {
    const source = await openEndpoint(from);
    opened.push(source);
    const target = await openEndpoint(to);
    opened.push(target);
    process.stderr.write(`copying ${source.driver.location} -> ${target.driver.location}\n`);
    const report = await copyDatabase(source, target, {
      onProgress: (p) => process.stderr.write(`${p.phase}: ${p.sessions} sessions, ${p.highScores} high scores, ${p.batches} batches\n`),
    });
    process.stdout.write(`${JSON.stringify({ event: 'copy_verified', ...report })}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`copy failed: ${messageOf(err)}\n`);
    return 1;
  } finally {
    for (const e of opened) await e.close().catch(() => undefined);
  }
}

// Run only as the entry point (tests import openEndpoint and copyDatabase).
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
