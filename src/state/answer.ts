/**
 * What a command returns to its transport (HTTP or WebSocket): the HTTP status it maps to, the
 * JSON body, and — for a change — the seq at which it is durable. Errors carry the contract's
 * exact `{error: "<text>"}` body so both transports answer with the same string.
 */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
  /** Seq of the batch that holds this command's change; null when nothing changed. */
  seq: number | null;
  /** For 429 and 503: seconds the client should wait (the `Retry-After` header). */
  retryAfterS?: number;
}

export function ok(status: number, body: Record<string, unknown>, seq: number | null = null): Answer {
  return { status, body, seq };
}

export function fail(status: number, error: string, retryAfterS?: number): Answer {
  return retryAfterS === undefined ? { status, body: { error }, seq: null } : { status, body: { error }, seq: null, retryAfterS };
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export const SESSION_NOT_FOUND = 'Session not found';
