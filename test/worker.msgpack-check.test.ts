import { describe, expect, it } from 'vitest';
import { decode, packr } from '../src/model/protocol.js';
import { MAX_DEPTH, isPlainSessionBlob } from '../workers/sqlite/msgpack-check.js';
import { session } from './worker.fixtures.js';


/** Deterministic PRNG (mulberry32) so a fuzz failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function variedSessions(): Array<{ id: string }> {
  const wide = { ...session('wide'), k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: true, k6: false, k7: null };
  const withUndefined = { ...session('with-undefined'), extra: undefined };
  const many = Array.from({ length: 70 }, (_, i) => ({ id: `a${i}`, position: { x: -i * 1.5, y: 2 ** 40 + i }, status: 'ground' }));
  return [
    session('plain'),
    session('ünïcødé-✓-𝄞'),
    session('x'.repeat(31)),
    session('y'.repeat(256), { seed: 'z'.repeat(70_000) }),
    session('many-artifacts', { artifacts: many as never }),
    session('numbers', { score: -17, durationSeconds: 0.25, startedAtMs: 2 ** 53 - 1, remainingArtifactCount: -(2 ** 31) }),
    session('ended', { status: 'ended', endedAtMs: 1, endReason: 'stale', result: 'lost' }),
    wide, // more than 15 keys: map 16
    withUndefined,
  ];
}

describe('msgpack-check: the fast structural check of stored session BLOBs', () => {
  it('accepts every session shape that packr writes', () => {
    for (const s of variedSessions()) expect(isPlainSessionBlob(packr.pack(s), s.id), s.id.slice(0, 20)).toBe(true);
  });

  it('rejects trailing bytes, every truncation, a wrong id and a missing id', () => {
    const bytes = Uint8Array.from(packr.pack(session('s1')));
    expect(isPlainSessionBlob(Uint8Array.from([...bytes, 0x00]), 's1')).toBe(false);
    for (let n = 0; n < bytes.length; n++) expect(isPlainSessionBlob(bytes.subarray(0, n), 's1')).toBe(false);
    expect(isPlainSessionBlob(bytes, 's2')).toBe(false);
    expect(isPlainSessionBlob(packr.pack({ id: 'é' }), 'é')).toBe(true);
    expect(isPlainSessionBlob(Uint8Array.from([0x81, 0xa2, 0x69, 0x64, 0xa1, 0xe9]), 'é')).toBe(false); // latin-1 byte
    expect(isPlainSessionBlob(packr.pack({ id: 'ée' }), 'éf')).toBe(false);
    expect(isPlainSessionBlob(packr.pack({ name: 's1' }), 's1')).toBe(false);
    expect(isPlainSessionBlob(packr.pack({ id: 1 }), '1')).toBe(false);
  });

  it('rejects what is not a plain map: scalars, arrays, 0xc1, extensions, non-string keys, deep nesting', () => {
    const id = 's';
    expect(isPlainSessionBlob(packr.pack(42), id)).toBe(false);
    expect(isPlainSessionBlob(packr.pack(['s']), id)).toBe(false);
    expect(isPlainSessionBlob(Uint8Array.from([0x81, 0xa2, 0x69, 0x64, 0xc1]), id)).toBe(false);
    expect(isPlainSessionBlob(packr.pack({ id: 's', at: new Date(0) }), id)).toBe(false);
    expect(isPlainSessionBlob(Uint8Array.from([0x82, 0xa2, 0x69, 0x64, 0xa1, 0x73, 0x01, 0x02]), id)).toBe(false);
    let deep: unknown = 1;
    for (let i = 0; i < MAX_DEPTH + 1; i++) deep = [deep];
    expect(isPlainSessionBlob(packr.pack({ id: 's', deep }), id)).toBe(false);
  });

  it('never accepts bytes that decode() would refuse (fuzzed)', () => {
    const random = prng(20261126);
    const originals = variedSessions()
      .filter((s) => s.id.length < 100)
      .map((s) => ({ id: s.id, bytes: Uint8Array.from(packr.pack(s)) }));
    let accepted = 0;
    for (let round = 0; round < 20_000; round++) {
      const { id, bytes } = originals[round % originals.length];
      const mutant = Uint8Array.from(bytes);
      const flips = 1 + Math.floor(random() * 3);
      for (let f = 0; f < flips; f++) mutant[Math.floor(random() * mutant.length)] = Math.floor(random() * 256);
      const cut = random() < 0.2 ? mutant.subarray(0, Math.floor(random() * mutant.length)) : mutant;
      if (!isPlainSessionBlob(cut, id)) continue;
      accepted++;
      const value = decode<{ id: string }>(cut); // must not throw
      expect(value.id).toBe(id);
    }
    expect(accepted).toBeGreaterThan(1000); // the fuzz reached well-formed mutants, not only garbage


  });
});
