/**
 * A structural check of one stored session BLOB, without decoding it: the bytes are exactly one
 * msgpack map (nothing after it), every map key at any depth is a string, only plain types
 * appear (no extension but msgpackr's `undefined`), nesting stays under MAX_DEPTH, and its
 * "id" entry is the string `id`.
 *
 * Why: decoding every row to validate it costs as much as the main thread's own decode (about
 * 1.1 s per 100k sessions of 1.3 KB with 20 artifacts, on the 2-core dev VM); this walk
 * allocates nothing and takes about 0.3 s, the time of one JS pass summing the same bytes.
 *
 * It may only ever be STRICTER than msgpackr: whatever it accepts must decode with `decode()`
 * from protocol.ts, alone or inside a page (test/worker.msgpack-check.test.ts fuzzes that).
 * What it rejects is handed to the real decoder by reload.ts, so strictness costs speed, never
 * rows.
 *
 * Never: allocate per byte, recurse past MAX_DEPTH, or read outside `bytes`.
 */

/** Deeper values are left to the real decoder (records are 4 levels deep). */
export const MAX_DEPTH = 16;

function u16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

function u32(b: Uint8Array, p: number): number {
  return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
}

/** Size of the header of a str whose first byte is `t` (1, 2, 3 or 5), or 0 when it is not a str. */
function strHeaderSize(t: number): number {
  if ((t & 0xe0) === 0xa0) return 1;
  if (t === 0xd9) return 2;
  if (t === 0xda) return 3;
  if (t === 0xdb) return 5;
  return 0;
}

function strLength(b: Uint8Array, p: number, t: number): number {
  if ((t & 0xe0) === 0xa0) return t & 0x1f;
  if (t === 0xd9) return b[p + 1];
  if (t === 0xda) return u16(b, p + 1);
  return u32(b, p + 1);
}

/** Position after the str at `p`, or -1 when it is not a complete str. */
function skipStr(b: Uint8Array, p: number, end: number): number {
  if (p >= end) return -1;
  const t = b[p];
  const header = strHeaderSize(t);
  if (header === 0 || p + header > end) return -1;
  const next = p + header + strLength(b, p, t);
  return next <= end ? next : -1;
}

/** Position after `n` map entries (string keys) starting at `p`, or -1. */
function skipEntries(b: Uint8Array, p: number, end: number, n: number, depth: number): number {
  for (let i = 0; i < n && p !== -1; i++) {
    p = skipStr(b, p, end);
    if (p !== -1) p = skipValue(b, p, end, depth);
  }
  return p;
}

function skipItems(b: Uint8Array, p: number, end: number, n: number, depth: number): number {
  for (let i = 0; i < n && p !== -1; i++) p = skipValue(b, p, end, depth);
  return p;
}

/** Position after `len` payload bytes that begin `header` bytes after `p`, or -1. */
function fixed(p: number, header: number, len: number, end: number): number {
  const next = p + header + len;
  return next <= end ? next : -1;
}

/** Position after the value at `p`, or -1 when it is malformed or outside the accepted subset. */
function skipValue(b: Uint8Array, p: number, end: number, depth: number): number {
  if (p >= end || depth > MAX_DEPTH) return -1;
  const t = b[p];
  if (t <= 0x7f || t >= 0xe0) return p + 1; // fixint
  if (t <= 0x8f) return skipEntries(b, p + 1, end, t & 0x0f, depth + 1);
  if (t <= 0x9f) return skipItems(b, p + 1, end, t & 0x0f, depth + 1);
  if (t <= 0xbf) return skipStr(b, p, end);
  switch (t) {
    case 0xc0: // nil
    case 0xc2: // false
    case 0xc3: // true
      return p + 1;
    case 0xc4: // bin 8/16/32
      return p + 2 <= end ? fixed(p, 2, b[p + 1], end) : -1;
    case 0xc5:
      return p + 3 <= end ? fixed(p, 3, u16(b, p + 1), end) : -1;
    case 0xc6:
      return p + 5 <= end ? fixed(p, 5, u32(b, p + 1), end) : -1;
    case 0xca: // float32
      return fixed(p, 1, 4, end);
    case 0xcb: // float64
      return fixed(p, 1, 8, end);
    case 0xcc: // uint 8/16/32/64, int 8/16/32/64
    case 0xd0:
      return fixed(p, 1, 1, end);
    case 0xcd:
    case 0xd1:
      return fixed(p, 1, 2, end);
    case 0xce:
    case 0xd2:
      return fixed(p, 1, 4, end);
    case 0xcf:
    case 0xd3:
      return fixed(p, 1, 8, end);
    case 0xd4: // fixext 1: only msgpackr's `undefined` (type 0)
      return p + 3 <= end && b[p + 1] === 0x00 ? p + 3 : -1;
    case 0xd9: // str 8/16/32
    case 0xda:
    case 0xdb:
      return skipStr(b, p, end);
    case 0xdc: // array 16/32
      return p + 3 <= end ? skipItems(b, p + 3, end, u16(b, p + 1), depth + 1) : -1;
    case 0xdd:
      return p + 5 <= end ? skipItems(b, p + 5, end, u32(b, p + 1), depth + 1) : -1;
    case 0xde: // map 16/32
      return p + 3 <= end ? skipEntries(b, p + 3, end, u16(b, p + 1), depth + 1) : -1;
    case 0xdf:
      return p + 5 <= end ? skipEntries(b, p + 5, end, u32(b, p + 1), depth + 1) : -1;
    default: // 0xc1 (never used), other extensions
      return -1;
  }
}

/** True when the str at `p` is the UTF-8 encoding of `expected`. */
function strEquals(b: Uint8Array, p: number, end: number, expected: string): boolean {
  if (skipStr(b, p, end) === -1) return false;
  const t = b[p];
  const len = strLength(b, p, t);
  const start = p + strHeaderSize(t);
  // UTF-8 is never shorter than UTF-16 and only as long for pure ASCII: compare char codes
  // without encoding the id (the common case, and no allocation per row).
  if (len === expected.length) {
    for (let i = 0; i < len; i++) {
      const c = expected.charCodeAt(i);
      if (c >= 0x80 || b[start + i] !== c) return false;
    }
    return true;
  }
  if (len < expected.length) return false;
  const utf8 = Buffer.from(expected, 'utf8');
  if (utf8.length !== len) return false;
  for (let i = 0; i < len; i++) if (b[start + i] !== utf8[i]) return false;
  return true;
}

/**
 * True when `bytes` is one well-formed msgpack map in the accepted subset, with nothing after
 * it, whose "id" entry is the string `id`.
 */
export function isPlainSessionBlob(bytes: Uint8Array, id: string): boolean {
  const end = bytes.length;
  if (end === 0) return false;
  const t = bytes[0];
  let n: number;
  let p: number;
  if ((t & 0xf0) === 0x80) {
    n = t & 0x0f;
    p = 1;
  } else if (t === 0xde && end >= 3) {
    n = u16(bytes, 1);
    p = 3;
  } else if (t === 0xdf && end >= 5) {
    n = u32(bytes, 1);
    p = 5;
  } else {
    return false;
  }

  let idMatches = false;
  for (let i = 0; i < n; i++) {
    const keyAt = p;
    p = skipStr(bytes, p, end);
    if (p === -1) return false;
    // The key "id" as msgpackr writes it (fixstr); another encoding of it is left to the decoder.
    if (p - keyAt === 3 && bytes[keyAt] === 0xa2 && bytes[keyAt + 1] === 0x69 && bytes[keyAt + 2] === 0x64) {
      // A repeated "id" key decodes to its last value: the last one decides.
      idMatches = strEquals(bytes, p, end, id);
    }
    p = skipValue(bytes, p, end, 1);
    if (p === -1) return false;
  }
  return idMatches && p === end;
}
