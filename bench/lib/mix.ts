/**
 * The game's write traffic as HTTP requests (CONTRACT §1.6, §3.6): sessions are pre-created,
 * then each connection cycles spawn → artifact-status(ground) → artifact-status(carried) →
 * deposit, taking the next session of the pool (round-robin) at each spawn and the artifact id
 * from the spawn answer. Used by http-mix and flush-tuning; the create bench uses `createRequests`.
 */
import type { Ctx, LoadRequest } from './http-load.js';
import { runAmount } from './http-load.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Long sessions, so no stale sweep ends them during a bench (stale = 2 × duration). */
export const BENCH_SESSION_SECONDS = 600;

/** A stand-in artifact id when the target does not answer one (the hello-world baseline). */
const PLACEHOLDER_ARTIFACT = 'artifact_0_placeholder';

export interface MixCounters {
  spawns: number;
}

/** The four-request cycle over `pool`. `counters.spawns` counts spawns issued. */
export function mixRequests(pool: readonly string[], counters: MixCounters = { spawns: 0 }): LoadRequest[] {
  let next = 0;
  const artifactOf = (ctx: Ctx) => (typeof ctx.artifactId === 'string' ? ctx.artifactId : null);
  return [
    {
      method: 'POST',
      headers: JSON_HEADERS,
      setupRequest(req, ctx) {
        const sessionId = pool[next++ % pool.length];
        ctx.sessionId = sessionId;
        counters.spawns++;
        const x = 170 + ((next * 37) % 684);
        return { ...req, path: `/api/sessions/${sessionId}/spawn`, body: `{"x":${x},"y":218}` };
      },
      onResponse(status, body, ctx) {
        if (status < 200 || status > 299) return;
        try {
          ctx.artifactId = (JSON.parse(body) as { artifact?: { id?: string } }).artifact?.id ?? PLACEHOLDER_ARTIFACT;
        } catch {
          ctx.artifactId = PLACEHOLDER_ARTIFACT;
        }
      },
    },
    statusRequest('ground', artifactOf),
    statusRequest('carried', artifactOf),
    {
      method: 'POST',
      headers: JSON_HEADERS,
      setupRequest(req, ctx) {
        const artifactId = artifactOf(ctx);
        // No artifact (the spawn failed): returning null makes autocannon restart the cycle.
        if (artifactId === null) return null;
        return { ...req, path: `/api/sessions/${String(ctx.sessionId)}/deposit`, body: JSON.stringify({ artifactId }) };
      },
    },
  ];
}

function statusRequest(status: 'ground' | 'carried', artifactOf: (ctx: Ctx) => string | null): LoadRequest {
  return {
    method: 'POST',
    headers: JSON_HEADERS,
    setupRequest(req, ctx) {
      const artifactId = artifactOf(ctx);
      if (artifactId === null) return null;
      return {
        ...req,
        path: `/api/sessions/${String(ctx.sessionId)}/artifact-status`,
        body: JSON.stringify({ artifactId, status }),
      };
    },
  };
}

/** POST /api/sessions; `onId` receives each created session's id. */
export function createRequests(body: string | null, onId?: (id: string) => void): LoadRequest[] {
  return [
    {
      method: 'POST',
      path: '/api/sessions',
      headers: JSON_HEADERS,
      ...(body === null ? {} : { body }),
      setupRequest: (req) => req,
      onResponse(status, text) {
        if (status !== 201 || onId === undefined) return;
        onId((JSON.parse(text) as { sessionId: string }).sessionId);
      },
    },
  ];
}

/** Creates `count` sessions of BENCH_SESSION_SECONDS over HTTP (50 connections); returns their ids. */
export async function precreateSessions(url: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const body = JSON.stringify({ requestedDurationSeconds: BENCH_SESSION_SECONDS });
  const failed = await runAmount(url, createRequests(body, (id) => ids.push(id)), count, 50);
  if (failed > 0 || ids.length !== count) throw new Error(`pre-creating sessions: ${failed} failed, ${ids.length}/${count} created`);
  return ids;
}

/** Ids for a target that has no sessions (the hello-world baseline accepts any path). */
export function placeholderPool(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `session_placeholder_${i}`);
}
