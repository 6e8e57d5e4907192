/**
 * Reading a JSON request body (CONTRACT §1.4, decision #15): bytes are counted as they arrive
 * and reading stops at the first chunk past the limit (413, without waiting for the rest). The
 * chunks uWS hands over are only valid during the callback, so they are copied before the next
 * one arrives; a single-chunk body is parsed straight from the view without a copy.
 * Only well-formed UTF-8 JSON is accepted, as in the original: a byte-order mark is not JSON
 * (RFC 8259 §8.1), so it is not stripped, and bytes that are not UTF-8 are refused instead of being
 * turned into U+FFFD. Both answer 400 `Invalid JSON`.
 */
import type { HttpResponse } from 'uWebSockets.js';

export const BODY_LIMIT_BYTES = 100 * 1024;

export const INVALID_JSON = 'Invalid JSON';

export type BodyResult = { kind: 'ok'; value: unknown } | { kind: 'tooLarge' } | { kind: 'invalidJson' };

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function parse(bytes: Uint8Array): BodyResult {
  if (bytes.byteLength === 0) return { kind: 'ok', value: null };
  try {
    return { kind: 'ok', value: JSON.parse(decoder.decode(bytes)) };
  } catch {
    return { kind: 'invalidJson' };
  }
}

/** Calls `done` exactly once, unless the request is aborted first. */
export function readJsonBody(res: HttpResponse, done: (result: BodyResult) => void): void {
  let chunks: Buffer[] | null = [];
  let size = 0;
  res.onData((chunk, isLast) => {
    if (chunks === null) return; // already answered (413); ignore the rest
    size += chunk.byteLength;
    if (size > BODY_LIMIT_BYTES) {
      chunks = null;
      done({ kind: 'tooLarge' });
      return;
    }
    if (isLast && chunks.length === 0) {
      done(parse(new Uint8Array(chunk)));
      return;
    }
    chunks.push(Buffer.copyBytesFrom(new Uint8Array(chunk)));
    if (isLast) done(parse(Buffer.concat(chunks, size)));
  });
}
