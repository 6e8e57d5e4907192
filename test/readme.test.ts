/**
 * The README is the operator's reference: every storage error code and every WebSocket close code
 * the code can produce is listed there, and the README lists no code that does not exist.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WS_CLOSE_CODES } from '../src/ws/close-codes.js';

const ROOT = join(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function section(title: string): string {
  const start = README.indexOf(title);
  expect(start, title).toBeGreaterThanOrEqual(0);
  const next = README.indexOf('\n#', start + title.length);
  return README.slice(start, next < 0 ? undefined : next);
}

describe('README lists of codes', () => {
  it('lists exactly the storage error codes of the thread protocol', () => {
    const protocol = readFileSync(join(ROOT, 'src', 'model', 'protocol.ts'), 'utf8');
    const union = protocol.slice(protocol.indexOf('export type ErrorCode'), protocol.indexOf(';', protocol.indexOf('export type ErrorCode')));
    const inCode = [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]).sort();
    const inReadme = [...section('### Storage error codes').matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(inCode.length).toBeGreaterThan(5);
    expect(inReadme).toEqual(inCode);
  });

  it('lists exactly the WebSocket close codes the server sends', () => {
    const inReadme = [...section('### Limits and close codes').matchAll(/^\| (4\d{3}) \|/gm)].map((m) => Number(m[1])).sort();
    expect(inReadme).toEqual([...WS_CLOSE_CODES].sort());
  });
});
