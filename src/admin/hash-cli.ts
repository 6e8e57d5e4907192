/**
 * `npm run admin:hash`: prints an ADMIN_PASSWORD_HASH for the password read from standard input
 * (one line; the trailing newline is dropped), so the password never lands in shell history or in
 * the process list. Example: `printf '%s' 'my password' | npm run --silent admin:hash`.
 */
import { ADMIN_PASSWORD_MAX_LENGTH } from '../config.js';
import { makeScryptHash } from './password.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Admin password (then Enter, Ctrl-D): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const password = await readStdin();
if (password.trim() === '' || password.trim() !== password || password.length > ADMIN_PASSWORD_MAX_LENGTH) {
  process.stderr.write(`admin:hash: the password must be 1..${ADMIN_PASSWORD_MAX_LENGTH} characters without surrounding whitespace\n`);
  process.exit(1);
}
process.stdout.write(`${makeScryptHash(password)}\n`);
