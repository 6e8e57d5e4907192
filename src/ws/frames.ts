/**
 * WebSocket frames: decoding requests and encoding answers and pushes. Text frames carry JSON,
 * binary frames carry plain msgpack (no records, no shared structures, so any msgpack library
 * reads them). A frame is answered in the encoding it arrived in.
 *
 *   request  {id, op, ...args}
 *   answer   {id, ok: true, ...body, seq?}   or   {id, ok: false, error: {status, message, retryAfterS?}}
 *   push     {topic, data}
 *
 * Never: keep a reference to the frame's ArrayBuffer (uWS neuters it when the handler returns)
 * or to the bytes `encode` returns (msgpackr reuses its buffer: send or publish them at once;
 * uWS copies them).
 */
import { C1, Packr } from 'msgpackr';
import { isWellFormed } from '../api/fields.js';
import type { Answer } from '../state/answer.js';

// copyBuffers: msgpack `bin` values must not point into the frame, which uWS neuters on return.
const packr = new Packr({ useRecords: false, copyBuffers: true });
// ignoreBOM: a byte-order mark is kept, so JSON.parse refuses it, as over HTTP (src/http/body.ts).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** What a request's `id` may be; it is echoed as given. */
export type RequestId = string | number | boolean | null;

export const UNDECODABLE = Symbol('undecodable');

/** The decoded value, or UNDECODABLE for bytes that are not one JSON text / one msgpack value. */
export function decodeFrame(message: ArrayBuffer, isBinary: boolean): unknown {
  try {
    if (!isBinary) return JSON.parse(utf8.decode(message));
    const value: unknown = packr.unpack(new Uint8Array(message));
    // msgpackr decodes the never-used byte 0xc1 to a marker object instead of failing.
    return value === C1 ? UNDECODABLE : value;
  } catch {
    return UNDECODABLE;
  }
}

/** JSON text for a text frame, msgpack bytes for a binary one (valid until the next encode). */
export function encode(value: unknown, binary: boolean): string | Uint8Array {
  return binary ? packr.pack(value) : JSON.stringify(value);
}

/** A scalar id; a string id must be well-formed Unicode, as it is echoed in the answer. */
export function isRequestId(value: unknown): value is RequestId {
  if (typeof value === 'string') return isWellFormed(value);
  return value === null || typeof value === 'boolean' || typeof value === 'number';
}

/** The answer frame for a command's Answer: the HTTP body's fields, or its error as {status, message}. */
export function answerFrame(id: RequestId, answer: Answer): Record<string, unknown> {
  if (answer.status >= 400) {
    const message = typeof answer.body.error === 'string' ? answer.body.error : 'Error';
    return errorFrame(id, answer.status, message, answer.retryAfterS);
  }
  const frame: Record<string, unknown> = { id, ok: true };
  for (const key of Object.keys(answer.body)) if (key !== 'id' && key !== 'ok') frame[key] = answer.body[key];
  if (answer.seq !== null) frame.seq = answer.seq;
  return frame;
}

export function okFrame(id: RequestId, fields: Record<string, unknown>): Record<string, unknown> {
  return { id, ok: true, ...fields };
}

export function errorFrame(id: RequestId, status: number, message: string, retryAfterS?: number): Record<string, unknown> {
  const error = retryAfterS === undefined ? { status, message } : { status, message, retryAfterS };
  return { id, ok: false, error };
}

export function pushFrame(topic: string, data: unknown): Record<string, unknown> {
  return { topic, data };
}
