/**
 * The level generator of CONTRACT §2.7: the ground segment, the constant Code Review Bin and
 * 13–18 attempts to place floating stones, as a pure function of the seed string.
 * Never uses Math.random, clocks or I/O, and never imports seed.ts.
 *
 * The original wraps generation in a generate-and-validate loop (§2.8). It is left out: with
 * no initial artifacts and only floating stones, every level passes on the first try.
 */
import type { LevelRecord, TerrainSegment, TrashCan } from '../model/records.js';
import { createRng, type Rng } from './rng.js';

export const WORLD_WIDTH_PX = 1024;
export const WORLD_HEIGHT_PX = 683;
export const FLOOR_Y_PX = 559;

const BIN_WIDTH_PX = 90;
const BIN_HEIGHT_PX = 110;
const BIN_X_PX = WORLD_WIDTH_PX - BIN_WIDTH_PX - 57; // 877
const BIN_Y_PX = FLOOR_Y_PX - BIN_HEIGHT_PX; // 449

const STONE_HEIGHT_PX = 32;
const STONE_MIN_WIDTH_PX = 32;
const STONE_MAX_WIDTH_PX = 64;
/** Top y of each tier: bottom edge 64 px (low) or 128 px (high) above the floor. */
const LOW_TOP_Y_PX = FLOOR_Y_PX - 64 - STONE_HEIGHT_PX; // 463
const HIGH_TOP_Y_PX = FLOOR_Y_PX - 128 - STONE_HEIGHT_PX; // 399
const HIGH_TIER_CHANCE = 0.4;
/** Minimum horizontal gap between two stones, and between a stone and the bin. */
const MIN_GAP_PX = 80;
const X_TRIES_PER_ATTEMPT = 10;

const EARLY_X_RANGE: readonly [number, number] = [200, 760];
const OTHER_X_RANGE: readonly [number, number] = [120, 864];

export const GROUND: Readonly<TerrainSegment> = {
  id: 'terrain_ground',
  type: 'ground',
  bounds: { x: 0, y: FLOOR_Y_PX, width: WORLD_WIDTH_PX, height: WORLD_HEIGHT_PX - FLOOR_Y_PX },
};

export function trashCan(): TrashCan {
  return {
    position: { x: BIN_X_PX, y: BIN_Y_PX },
    bounds: { x: BIN_X_PX, y: BIN_Y_PX, width: BIN_WIDTH_PX, height: BIN_HEIGHT_PX },
  };
}

export function generateLevel(seed: string): LevelRecord {
  const rng = createRng(seed);
  const earlyCount = rng.int(3, 4);
  const attempts = earlyCount + rng.int(10, 14);
  const stones: TerrainSegment[] = [];
  for (let attempt = 0; attempt < attempts; attempt++) {
    const stone = placeStone(rng, attempt, attempt < earlyCount, stones);
    if (stone) stones.push(stone);
  }
  return {
    terrain: [{ ...GROUND, bounds: { ...GROUND.bounds } }, ...stones],
    trashCan: trashCan(),
  };
}

/** One attempt: fixed width and tier, up to 10 random x values; null when all collide. */
function placeStone(
  rng: Rng,
  attempt: number,
  early: boolean,
  placed: readonly TerrainSegment[],
): TerrainSegment | null {
  const width = rng.int(STONE_MIN_WIDTH_PX, STONE_MAX_WIDTH_PX);
  const y = tierTopY(rng, attempt);
  const [minX, maxX] = early ? EARLY_X_RANGE : OTHER_X_RANGE;
  for (let t = 0; t < X_TRIES_PER_ATTEMPT; t++) {
    const x = rng.int(minX, maxX);
    if (fits(x, width, placed)) {
      return { id: `terrain_${attempt}`, type: 'stone', bounds: { x, y, width, height: STONE_HEIGHT_PX } };
    }
  }
  return null;
}

function tierTopY(rng: Rng, attempt: number): number {
  if (attempt < 2) return LOW_TOP_Y_PX;
  if (attempt < 4) return HIGH_TOP_Y_PX;
  return rng.next() < HIGH_TIER_CHANCE ? HIGH_TOP_Y_PX : LOW_TOP_Y_PX;
}

/** True when [x, x+width] keeps MIN_GAP_PX from every placed stone and from the bin. */
function fits(x: number, width: number, placed: readonly TerrainSegment[]): boolean {
  if (x + width > BIN_X_PX - MIN_GAP_PX) return false;
  return placed.every(({ bounds: b }) => x >= b.x + b.width + MIN_GAP_PX || x + width <= b.x - MIN_GAP_PX);
}
