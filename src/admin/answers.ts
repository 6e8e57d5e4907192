/**
 * What the admin console receives from and returns to its transport (src/http/admin.ts), and the
 * contract's fixed strings (CONTRACT-ADMIN §1–3). The transport copies the request's headers, reads
 * the body only when asked, and writes the answer with `Cache-Control: no-store` (decision Q17).
 */
export const NOT_CONFIGURED = 'Admin access not configured';
export const UNAUTHORIZED = 'Unauthorized';
export const TOO_MANY_ATTEMPTS = 'Too many attempts, try later';
export const BODY_REQUIRED = 'Body required';
export const CREDENTIALS_REQUIRED = 'Username and password are required';
export const NOT_FOUND_ROUTE = 'Not Found';
export const NOT_FOUND_ROW = 'Not found';
export const METHOD_NOT_ALLOWED = 'Method not allowed';
export const PAYLOAD_TOO_LARGE = 'Payload too large';
export const INVALID_JSON = 'Invalid JSON';

export interface AdminRequest {
  /** Lower case, as uWS gives it. */
  method: string;
  /** The raw URL path (not percent-decoded), without the query. */
  path: string;
  /** The raw query string without `?`. */
  query: string;
  /** The Cookie header ('' when absent). */
  cookie: string;
  /** The Origin header ('' when absent). */
  origin: string;
  /** Hosts this request was addressed to: Host, and X-Forwarded-Host behind a trusted proxy. */
  hosts: string[];
  /** The client key of src/http/client-key.ts (proxy headers only with VIBEFIXER_TRUST_PROXY). */
  clientKey: string;
}

export type AdminBody = { kind: 'ok'; value: unknown } | { kind: 'tooLarge' } | { kind: 'invalidJson' };

export interface AdminAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Array<[string, string]>;
}

export function json(status: number, body: Record<string, unknown>, headers?: Array<[string, string]>): AdminAnswer {
  return headers === undefined ? { status, body } : { status, body, headers };
}

export function error(status: number, text: string, headers?: Array<[string, string]>): AdminAnswer {
  return json(status, { error: text }, headers);
}

/** A handler's result: the answer, and the seq its change is durable at (null: nothing changed). */
export interface Outcome {
  answer: AdminAnswer;
  seq: number | null;
}

export function done(answer: AdminAnswer, seq: number | null = null): Outcome {
  return { answer, seq };
}

/** Bodies that are not JSON objects read as `{}` (the original's handlers). */
export function fieldsOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
