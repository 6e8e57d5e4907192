// Configuration: the environment, read once and strictly, into a frozen Config.
//
// Role: turn an env-like object into validated settings, or throw one ConfigError listing every
// problem at once (the variable, its value, what is accepted), so an operator fixes them in one go.
// Never: read the real environment itself (src/server/main.ts passes it in, so this stays a pure function),
// touch the file system, or fall back to a default when a variable is set but wrong. Every knob has a
// row in README.md, and a test checks that table against CONFIG_ENV_NAMES both ways.

import { parseScryptHash } from './admin/password.js';
import {
  anyTextKnob,
  booleanKnob,
  integerKnob,
  type Knob,
  maskUrlPassword,
  oneOfKnob,
  optionalTextKnob,
  pathKnob,
  postgresUrlKnob,
  Rejection,
  secretKnob,
  textKnob,
} from './config/knobs.js';
import { closestName } from './config/suggest.js';

export { describeDurability } from './config/durability.js';

export const ACK_MODES = ['durable', 'memory'] as const;
export type AckMode = (typeof ACK_MODES)[number];
export const SQLITE_SYNCHRONOUS_MODES = ['NORMAL', 'FULL'] as const;
export type SqliteSynchronous = (typeof SQLITE_SYNCHRONOUS_MODES)[number];
export const STORAGE_KINDS = ['sqlite', 'postgres'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Validated settings; paths are absolute. README.md says what each one changes. */
export interface Config {
  /** TCP port; 0 = any free port (tests). */
  readonly port: number;
  readonly host: string;
  /** Which database the persistence worker writes to. */
  readonly storage: StorageKind;
  /** Absolute path of the SQLite file the persistence worker owns (storage=sqlite). */
  readonly dbPath: string;
  /** PostgreSQL connection URL (storage=postgres); holds a password: log `printableConfig()`, never this. */
  readonly pgUrl: string | null;
  /** Most connections the PostgreSQL driver opens. */
  readonly pgPoolSize: number;
  /** statement_timeout of every PostgreSQL connection. */
  readonly pgStatementTimeoutMs: number;
  /** Absolute path of a directory served as static files; null = none. */
  readonly staticDir: string | null;
  /** Requests per minute per client; 0 = limiter off. */
  readonly rateLimitPerMin: number;
  readonly trustProxy: boolean;
  /** durable: answer a write after its batch commits; memory: as soon as the hot state changed. */
  readonly ack: AckMode;
  readonly flushIntervalMs: number;
  /** Dirty entities that trigger a flush before the interval ends. */
  readonly flushMaxBatch: number;
  /** Dirty entities not yet committed; past it writes get 503. Always >= flushMaxBatch. */
  readonly queueMaxPending: number;
  readonly sqliteSynchronous: SqliteSynchronous;
  readonly shutdownTimeoutMs: number;
  /** How long a durable answer waits for its commit before 503. */
  readonly durableWaitMs: number;
  /** Cap of the failed-batch retry backoff. */
  readonly retryMaxBackoffMs: number;
  /** At most one periodic WAL checkpoint per this period (on the checkpointer thread, beside the commits); 0 = none. */
  readonly checkpointIntervalMs: number;
  readonly staleSweepIntervalMs: number;
  /** 0 = keep forever. */
  readonly sessionRetentionDays: number;
  /** 0 = keep forever. */
  readonly highScoreRetentionDays: number;
  readonly logLevel: LogLevel;
  /** Throttle of the `stats` WebSocket topic. */
  readonly statsPushMs: number;
  readonly wsMaxPayloadBytes: number;
  readonly wsMaxBackpressureBytes: number;
  readonly wsIdleTimeoutS: number;
  readonly wsMaxConnections: number;
  /** Admin console user; null = admin not configured (every /api/admin call gets 503). */
  readonly adminUser: string | null;
  /** Plain admin password (ADMIN_PASSWORD); exactly one of this and adminPasswordHash is set with adminUser. */
  readonly adminPassword: string | null;
  /** scrypt hash of the admin password (ADMIN_PASSWORD_HASH, see src/admin/password.ts). */
  readonly adminPasswordHash: string | null;
  /** NODE_ENV as given; `production` adds `Secure` to the admin cookie. */
  readonly nodeEnv: string | null;
  /** Audit/security log rows older than this are dropped; 0 = only the row cap applies. */
  readonly auditRetentionDays: number;
  /** Most audit/security log rows kept; the oldest go first. */
  readonly auditMaxRows: number;
  /** Bearer token /metrics asks for; null = /metrics answers anyone who can reach the port. */
  readonly metricsToken: string | null;
}

export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_STORAGE: StorageKind = 'sqlite';
/** Relative: resolved against the `cwd` given to loadConfig. */
export const DEFAULT_DB_PATH = 'data/vibefixer.sqlite';
/** No static files. */
export const DEFAULT_STATIC_DIR = null;
/** No PostgreSQL: required when VIBEFIXER_STORAGE=postgres. */
export const DEFAULT_PG_URL = null;
export const DEFAULT_PG_POOL_SIZE = 4;
export const DEFAULT_PG_STATEMENT_TIMEOUT_MS = 5_000;
export const DEFAULT_RATE_LIMIT_PER_MIN = 600;
export const DEFAULT_TRUST_PROXY = false;
export const DEFAULT_ACK: AckMode = 'durable';
export const DEFAULT_FLUSH_INTERVAL_MS = 100;
/** Sealing and encoding cost grows with the rows of a batch: this bounds the main thread's longest cut. */
export const DEFAULT_FLUSH_MAX_BATCH = 500;
export const DEFAULT_QUEUE_MAX_PENDING = 200_000;
export const DEFAULT_SQLITE_SYNCHRONOUS: SqliteSynchronous = 'NORMAL';
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
export const DEFAULT_DURABLE_WAIT_MS = 5_000;
export const DEFAULT_RETRY_MAX_BACKOFF_MS = 5_000;
/**
 * Checkpoints run on their own thread and connection (workers/sqlite/checkpointer.ts), beside the
 * commits: the period now only bounds how often one may run under load (their I/O and CPU
 * compete with the server's, and each copies more after a longer period): the durable HTTP mix has
 * a p99 of ~34 ms at 1 s, ~16 ms at 100 ms, ~9 ms with none. Before, on the one persistence
 * thread, every commit waited behind them: ~150 ms at 1 s, ~30 ms at 100 ms (README: tail).
 */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 100;
export const DEFAULT_STALE_SWEEP_INTERVAL_MS = 30_000;
export const DEFAULT_SESSION_RETENTION_DAYS = 30;
export const DEFAULT_HIGH_SCORE_RETENTION_DAYS = 180;
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
export const DEFAULT_STATS_PUSH_MS = 250;
export const DEFAULT_WS_MAX_PAYLOAD_BYTES = 102_400;
export const DEFAULT_WS_MAX_BACKPRESSURE_BYTES = 1_048_576;
export const DEFAULT_WS_IDLE_TIMEOUT_S = 120;
export const DEFAULT_WS_MAX_CONNECTIONS = 10_000;
export const DEFAULT_AUDIT_RETENTION_DAYS = 30;
export const DEFAULT_AUDIT_MAX_ROWS = 100_000;
/** The login refuses longer input (CONTRACT-ADMIN §2.1), so longer credentials could never log in. */
export const ADMIN_USER_MAX_LENGTH = 64;
export const ADMIN_PASSWORD_MAX_LENGTH = 128;
/** No token: /metrics is open, as Prometheus scrapes expect by default (README: Metrics). */
export const DEFAULT_METRICS_TOKEN = null;
export const METRICS_TOKEN_MIN_CHARS = 16;
export const METRICS_TOKEN_MAX_CHARS = 256;

const MS = 'milliseconds';

/** One knob per Config field; the mapped type makes a missing or mistyped knob a compile error. */
const KNOBS: { readonly [K in keyof Config]: Knob<Config[K]> } = {
  port: integerKnob('PORT', DEFAULT_PORT, 0, 65_535),
  host: textKnob('HOST', DEFAULT_HOST, 'a host name or IP address'),
  storage: oneOfKnob('VIBEFIXER_STORAGE', STORAGE_KINDS, DEFAULT_STORAGE),
  dbPath: pathKnob('VIBEFIXER_DB_PATH', DEFAULT_DB_PATH, 'a file path', {
    ':memory:':
      'is not allowed: the persistence worker thread owns a database file, and an in-memory database would lose every write at restart',
  }),
  pgUrl: postgresUrlKnob('VIBEFIXER_PG_URL'),
  pgPoolSize: integerKnob('VIBEFIXER_PG_POOL_SIZE', DEFAULT_PG_POOL_SIZE, 1, 100, 'connections'),
  pgStatementTimeoutMs: integerKnob('VIBEFIXER_PG_STATEMENT_TIMEOUT_MS', DEFAULT_PG_STATEMENT_TIMEOUT_MS, 100, 600_000, MS),
  staticDir: pathKnob('VIBEFIXER_STATIC_DIR', DEFAULT_STATIC_DIR, 'a directory path'),
  rateLimitPerMin: integerKnob('VIBEFIXER_RATE_LIMIT_PER_MIN', DEFAULT_RATE_LIMIT_PER_MIN, 0, 1_000_000, 'requests per minute'),
  trustProxy: booleanKnob('VIBEFIXER_TRUST_PROXY', DEFAULT_TRUST_PROXY),
  ack: oneOfKnob('VIBEFIXER_ACK', ACK_MODES, DEFAULT_ACK),
  flushIntervalMs: integerKnob('VIBEFIXER_FLUSH_INTERVAL_MS', DEFAULT_FLUSH_INTERVAL_MS, 1, 60_000, MS),
  flushMaxBatch: integerKnob('VIBEFIXER_FLUSH_MAX_BATCH', DEFAULT_FLUSH_MAX_BATCH, 1, 100_000, 'entities'),
  queueMaxPending: integerKnob('VIBEFIXER_QUEUE_MAX_PENDING', DEFAULT_QUEUE_MAX_PENDING, 1, 10_000_000, 'entities'),
  sqliteSynchronous: oneOfKnob('VIBEFIXER_SQLITE_SYNCHRONOUS', SQLITE_SYNCHRONOUS_MODES, DEFAULT_SQLITE_SYNCHRONOUS),
  shutdownTimeoutMs: integerKnob('VIBEFIXER_SHUTDOWN_TIMEOUT_MS', DEFAULT_SHUTDOWN_TIMEOUT_MS, 100, 600_000, MS),
  durableWaitMs: integerKnob('VIBEFIXER_DURABLE_WAIT_MS', DEFAULT_DURABLE_WAIT_MS, 10, 600_000, MS),
  retryMaxBackoffMs: integerKnob('VIBEFIXER_RETRY_MAX_BACKOFF_MS', DEFAULT_RETRY_MAX_BACKOFF_MS, 10, 600_000, MS),
  checkpointIntervalMs: integerKnob('VIBEFIXER_CHECKPOINT_INTERVAL_MS', DEFAULT_CHECKPOINT_INTERVAL_MS, 0, 3_600_000, MS),
  staleSweepIntervalMs: integerKnob('VIBEFIXER_STALE_SWEEP_INTERVAL_MS', DEFAULT_STALE_SWEEP_INTERVAL_MS, 10, 3_600_000, MS),
  sessionRetentionDays: integerKnob('VIBEFIXER_SESSION_RETENTION_DAYS', DEFAULT_SESSION_RETENTION_DAYS, 0, 36_500, 'days'),
  highScoreRetentionDays: integerKnob('VIBEFIXER_HIGH_SCORE_RETENTION_DAYS', DEFAULT_HIGH_SCORE_RETENTION_DAYS, 0, 36_500, 'days'),
  logLevel: oneOfKnob('VIBEFIXER_LOG_LEVEL', LOG_LEVELS, DEFAULT_LOG_LEVEL),
  statsPushMs: integerKnob('VIBEFIXER_STATS_PUSH_MS', DEFAULT_STATS_PUSH_MS, 10, 60_000, MS),
  wsMaxPayloadBytes: integerKnob('VIBEFIXER_WS_MAX_PAYLOAD_BYTES', DEFAULT_WS_MAX_PAYLOAD_BYTES, 1_024, 16_777_216, 'bytes'),
  wsMaxBackpressureBytes: integerKnob(
    'VIBEFIXER_WS_MAX_BACKPRESSURE_BYTES',
    DEFAULT_WS_MAX_BACKPRESSURE_BYTES,
    1_024,
    1_073_741_824,
    'bytes',
  ),
  // uWebSockets.js refuses an idle timeout under 8 s or over 960 s (and rounds to 4 s).
  wsIdleTimeoutS: integerKnob('VIBEFIXER_WS_IDLE_TIMEOUT_S', DEFAULT_WS_IDLE_TIMEOUT_S, 8, 960, 'seconds'),
  wsMaxConnections: integerKnob('VIBEFIXER_WS_MAX_CONNECTIONS', DEFAULT_WS_MAX_CONNECTIONS, 1, 1_000_000, 'connections'),
  adminUser: optionalTextKnob('ADMIN_USER', ADMIN_USER_MAX_LENGTH, `1..${ADMIN_USER_MAX_LENGTH} characters, no surrounding whitespace`),
  adminPassword: optionalTextKnob(
    'ADMIN_PASSWORD',
    ADMIN_PASSWORD_MAX_LENGTH,
    `1..${ADMIN_PASSWORD_MAX_LENGTH} characters, no surrounding whitespace`,
  ),
  adminPasswordHash: optionalTextKnob('ADMIN_PASSWORD_HASH', 1_000, 'scrypt$N$r$p$salt$key from `npm run admin:hash`', (raw) => {
    const parsed = parseScryptHash(raw);
    return typeof parsed === 'string' ? parsed : undefined;
  }),
  nodeEnv: anyTextKnob('NODE_ENV', 'any value; production adds Secure to the admin cookie'),
  auditRetentionDays: integerKnob('VIBEFIXER_AUDIT_RETENTION_DAYS', DEFAULT_AUDIT_RETENTION_DAYS, 0, 36_500, 'days'),
  auditMaxRows: integerKnob('VIBEFIXER_AUDIT_MAX_ROWS', DEFAULT_AUDIT_MAX_ROWS, 1_000, 10_000_000, 'rows'),
  metricsToken: secretKnob('VIBEFIXER_METRICS_TOKEN', METRICS_TOKEN_MIN_CHARS, METRICS_TOKEN_MAX_CHARS),
};

type Field = keyof Config;
const SECRET_ENV: ReadonlySet<string> = new Set(['ADMIN_PASSWORD', 'ADMIN_PASSWORD_HASH']);
const FIELDS = Object.keys(KNOBS) as Field[];

/** Every variable loadConfig reads, in table order. */
export const CONFIG_ENV_NAMES: readonly string[] = Object.freeze(FIELDS.map((field) => KNOBS[field].env));

const PREFIX = 'VIBEFIXER_';
const KNOWN_PREFIXED = CONFIG_ENV_NAMES.filter((name) => name.startsWith(PREFIX));

/** Names people plausibly try that are not settings, with what to do instead. */
const NOT_SETTINGS: Readonly<Record<string, string>> = {
  VIBEFIXER_PORT: 'did you mean PORT?',
  VIBEFIXER_HOST: 'did you mean HOST?',
  VIBEFIXER_BODY_LIMIT_BYTES: 'the 100 KiB body limit is fixed by the API contract',
  VIBEFIXER_METRICS_PORT: '/metrics is served on PORT; keep it private with VIBEFIXER_METRICS_TOKEN',
};

/** A bad configuration; `problems` has one line per bad variable, and the message is those lines. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

/**
 * Reads the settings from `env`, and only from it (src/server/main.ts passes the real environment), and
 * resolves paths against `cwd`. Unset variables take their default; a set but bad value, an unknown
 * VIBEFIXER_* name or a broken cross-field rule is a problem; all are thrown as one ConfigError.
 */
export function loadConfig(env: Record<string, string | undefined>, cwd = '.'): Readonly<Config> {
  const problems: string[] = [];
  const failed = new Set<Field>();
  const values: Partial<Record<Field, unknown>> = {};
  for (const field of FIELDS) {
    const knob: Knob<unknown> = KNOBS[field];
    const raw = env[knob.env];
    const unset = raw === undefined || (raw === '' && knob.emptyIsUnset === true);
    const value = unset ? knob.fallback(cwd) : raw === '' ? new Rejection('is empty, not unset') : knob.parse(raw, cwd);
    if (value instanceof Rejection) {
      // Secrets are never echoed, not even in a start-up error; a URL shows with its password masked.
      const shownRaw = knob.shown !== undefined ? JSON.stringify(knob.shown(raw as string)) : SECRET_ENV.has(knob.env) || knob.secret === true ? '"[REDACTED]"' : JSON.stringify(raw);
      problems.push(`${knob.env}=${shownRaw} ${value.why} (expected ${knob.expected})`);
      failed.add(field);
    } else {
      values[field] = value;
    }
  }
  const config = values as Config;
  problems.push(...crossFieldProblems(config, env, failed), ...unknownNameProblems(env));
  if (problems.length > 0) throw new ConfigError(problems);
  // Every value is a primitive or null, so freezing the top level freezes it all.
  return Object.freeze(config);
}

function crossFieldProblems(config: Config, env: Record<string, string | undefined>, failed: Set<Field>): string[] {
  const shown = (field: Field) =>
    `${KNOBS[field].env}=${String(config[field])}${env[KNOBS[field].env] === undefined ? ' (default)' : ''}`;
  const problems: string[] = [];
  // A batch is taken from the pending entities: a queue smaller than one batch could never fill it.
  if (!failed.has('queueMaxPending') && !failed.has('flushMaxBatch') && config.queueMaxPending < config.flushMaxBatch) {
    problems.push(
      `${shown('queueMaxPending')} is less than ${shown('flushMaxBatch')}: the queue must hold at least one full batch`,
    );
  }
  problems.push(...adminProblems(config, failed));
  problems.push(...storageProblems(config, env, failed));
  return problems;
}

/**
 * PostgreSQL needs its URL; a PostgreSQL knob set while SQLite runs is a mistake (most likely a forgotten
 * VIBEFIXER_STORAGE=postgres), refused rather than silently running on the SQLite file.
 */
function storageProblems(config: Config, env: Record<string, string | undefined>, failed: Set<Field>): string[] {
  if (failed.has('storage')) return [];
  const set = (field: Field) => env[KNOBS[field].env] !== undefined;
  const storage = `VIBEFIXER_STORAGE=${config.storage}${set('storage') ? '' : ' (default)'}`;
  const problems: string[] = [];
  if (config.storage === 'postgres') {
    // The SQLite knobs are ignored here, not refused: the Docker image sets VIBEFIXER_DB_PATH.
    if (!set('pgUrl')) problems.push(`${storage} needs VIBEFIXER_PG_URL (the database to connect to)`);
  } else {
    for (const field of ['pgUrl', 'pgPoolSize', 'pgStatementTimeoutMs'] as const) {
      if (set(field)) {
        problems.push(`${KNOBS[field].env} is set but ${storage}: it applies to PostgreSQL only; set VIBEFIXER_STORAGE=postgres or unset it`);
      }
    }
  }
  return problems;
}

/** Admin is all or nothing: a user with exactly one of the password and its hash, or none of them. */
function adminProblems(config: Config, failed: Set<Field>): string[] {
  if (failed.has('adminUser') || failed.has('adminPassword') || failed.has('adminPasswordHash')) return [];
  const secrets = (config.adminPassword === null ? 0 : 1) + (config.adminPasswordHash === null ? 0 : 1);
  if (secrets === 2) return ['ADMIN_PASSWORD and ADMIN_PASSWORD_HASH are both set: keep only one (the hash is the safer)'];
  if (config.adminUser !== null && secrets === 0) return ['ADMIN_USER is set without ADMIN_PASSWORD or ADMIN_PASSWORD_HASH: admin would stay locked'];
  if (config.adminUser === null && secrets === 1) {
    return [`${config.adminPassword === null ? 'ADMIN_PASSWORD_HASH' : 'ADMIN_PASSWORD'} is set without ADMIN_USER: admin would stay locked`];
  }
  return [];
}

/** The configuration as it may be logged: every secret (admin password, its hash, the metrics token, the PostgreSQL password) replaced. */
export function printableConfig(c: Config): Record<string, unknown> {
  return {
    ...c,
    adminPassword: c.adminPassword === null ? null : '[REDACTED]',
    adminPasswordHash: c.adminPasswordHash === null ? null : '[REDACTED]',
    metricsToken: c.metricsToken === null ? null : '[REDACTED]',
    pgUrl: c.pgUrl === null ? null : maskUrlPassword(c.pgUrl),
  };
}

/** True when both a user and a password (or its hash) are configured. */
export function adminConfigured(c: Config): boolean {
  return c.adminUser !== null && (c.adminPassword !== null || c.adminPasswordHash !== null);
}

function unknownNameProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(env)) {
    // Names are case-sensitive, so "vibefixer_ack" is unknown too, and gets VIBEFIXER_ACK as a suggestion.
    if (env[name] === undefined || !name.toUpperCase().startsWith(PREFIX) || KNOWN_PREFIXED.includes(name)) continue;
    const suggestion = closestName(name, KNOWN_PREFIXED);
    const hint =
      NOT_SETTINGS[name.toUpperCase()] ??
      (suggestion === undefined ? 'see README.md for the list' : `did you mean ${suggestion}?`);
    problems.push(`${name} is not a known setting; ${hint}`);
  }
  return problems;
}

/** True for an address only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The one place that reads the process environment: main calls this once at start-up. */
export function loadConfigFromProcess(): Readonly<Config> {
  return loadConfig(process.env, process.cwd());
}
