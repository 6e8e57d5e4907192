import { describe, it, expect } from 'vitest';
import { generateLevel } from '../src/game/level.js';
import { createRng } from '../src/game/rng.js';
import { newSeed } from '../src/game/seed.js';
import type { LevelRecord, TerrainSegment } from '../src/model/protocol.js';

const LEVEL_COUNT = 20_000;
const seeds = Array.from({ length: LEVEL_COUNT }, (_, i) => `seed-${i}`);
const levels = seeds.map(generateLevel);
const stonesOf = (level: LevelRecord): TerrainSegment[] => level.terrain.filter((s) => s.type === 'stone');

/** Returns the first §2.7 rule a level breaks, or null; a string keeps the failure readable. */
function brokenRule(level: LevelRecord): string | null {
  const [ground, ...stones] = level.terrain;
  if (JSON.stringify(ground) !== '{"id":"terrain_ground","type":"ground","bounds":{"x":0,"y":559,"width":1024,"height":124}}') {
    return 'ground segment';
  }
  if (JSON.stringify(level.trashCan) !== '{"position":{"x":877,"y":449},"bounds":{"x":877,"y":449,"width":90,"height":110}}') {
    return 'trash can';
  }
  let previousIndex = -1;
  for (const [i, { id, type, bounds: b }] of stones.entries()) {
    if (type !== 'stone') return `${id}: type ${type}`;
    const match = /^terrain_(\d+)$/.exec(id);
    const index = match ? Number(match[1]) : NaN;
    if (!(index > previousIndex && index < 18)) return `${id}: id out of order or range`;
    previousIndex = index;
    if (![b.x, b.y, b.width, b.height].every(Number.isInteger)) return `${id}: non-integer bounds`;
    if (b.height !== 32 || b.width < 32 || b.width > 64) return `${id}: size ${b.width}x${b.height}`;
    if (b.y !== 463 && b.y !== 399) return `${id}: top y ${b.y}`;
    if (b.x < 120 || b.x + b.width > 797) return `${id}: x span ${b.x}..${b.x + b.width}`;
    if (b.y >= ground.bounds.y) return `${id}: below the ground`;
    for (const { id: otherId, bounds: o } of stones.slice(0, i)) {
      const gap = Math.max(b.x - (o.x + o.width), o.x - (b.x + b.width));
      if (gap < 80) return `${id}: gap ${gap} to ${otherId}`;
    }
  }
  return null;
}

describe('level generator (CONTRACT §2.7)', () => {
  it('every level obeys the generator rules of CONTRACT §2.7', () => {
    const failures = levels.flatMap((level, i) => {
      const rule = brokenRule(level);
      return rule ? [`${seeds[i]}: ${rule}`] : [];
    });
    expect(failures.slice(0, 5)).toEqual([]);
  });

  it('the early stones follow the fixed tiers: terrain_0 and terrain_1 low, terrain_2 and terrain_3 high', () => {
    const expected: Record<string, number> = { terrain_0: 463, terrain_1: 463, terrain_2: 399, terrain_3: 399 };
    const wrong = levels.flatMap((level, i) =>
      stonesOf(level)
        .filter(({ id, bounds }) => id in expected && bounds.y !== expected[id])
        .map(({ id, bounds }) => `${seeds[i]}: ${id} at y ${bounds.y}`),
    );
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('the same seed always gives a deep-equal level', () => {
    for (const seed of seeds.slice(0, 200)) expect(generateLevel(seed)).toEqual(generateLevel(seed));
  });

  it('different seeds give different levels in the vast majority of cases', () => {
    const distinct = new Set(levels.map((level) => JSON.stringify(level.terrain)));
    expect(distinct.size).toBeGreaterThan(LEVEL_COUNT * 0.99);
  });

  it('stone counts match the original: only 3 to 6 stones, and 50–85 % of levels have 4', () => {
    const counts = new Map<number, number>();
    for (const level of levels) {
      const n = stonesOf(level).length;
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    expect([...counts.keys()].every((n) => n >= 3 && n <= 6)).toBe(true);
    const fourShare = (counts.get(4) ?? 0) / LEVEL_COUNT;
    expect(fourShare).toBeGreaterThan(0.5);
    expect(fourShare).toBeLessThan(0.85);
  });
});

describe('seeded random numbers', () => {
  it('int(min, max) stays within both inclusive bounds and reaches each of them', () => {
    const rng = createRng('bounds');
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const n = rng.int(32, 64);
      expect(Number.isInteger(n) && n >= 32 && n <= 64).toBe(true);
      seen.add(n);
    }
    expect(seen.size).toBe(33);
  });

  it('newSeed makes distinct opaque strings', () => {
    const made = new Set(Array.from({ length: 1000 }, newSeed));
    expect(made.size).toBe(1000);
    for (const seed of made) expect(seed).toMatch(/^[0-9a-z]+$/);
  });
});
