/**
 * What the players bench's main thread and its client threads (players-worker.ts) exchange.
 * Kept apart from the worker, whose module starts playing as soon as it is imported.
 */
export interface PlayersWorkerData {
  port: number;
  players: number;
  connections: number;
  maxDepth: number;
  /** The target answers {"ok":true} to everything (uWS hello): use stand-in ids. */
  placeholder: boolean;
  gameMs: number;
  spawnEveryMs: number;
  settleMs: number;
  measureMs: number;
  graceMs: number;
  /** Distinguishes this thread's player tags. */
  index: number;
}

export const KINDS = ['create', 'spawn', 'ground', 'carried', 'deposit', 'end', 'score'] as const;
export type Kind = (typeof KINDS)[number];

export interface PlayersWorkerResult {
  histogram: number[];
  /** How late the timer fired relative to the intended time (client-side lag only). */
  lagHistogram: number[];
  /** Answers to requests intended inside the window, per kind. */
  answered: Record<Kind, number>;
  non2xx: number;
  socketErrors: number;
  unanswered: number;
  firstNon2xx: string | null;
}

