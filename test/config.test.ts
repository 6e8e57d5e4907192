import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_ENV_NAMES,
  ConfigError,
  type Config,
  DEFAULT_ACK,
  DEFAULT_DB_PATH,
  DEFAULT_HOST,
  DEFAULT_LOG_LEVEL,
  DEFAULT_SQLITE_SYNCHRONOUS,
  DEFAULT_STORAGE,
  DEFAULT_TRUST_PROXY,
  describeDurability,
  isLoopbackHost,
  loadConfig,
  adminConfigured,
  printableConfig,
} from '../src/config.js';
import { makeScryptHash } from '../src/admin/password.js';

const CWD = '/srv/vibefixer';

function load(env: Record<string, string | undefined>): Readonly<Config> {
  return loadConfig(env, CWD);
}

/** The problems loadConfig reports for `env`; fails the test when it reports none. */
function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

/** The two variables a PostgreSQL configuration needs. */
const PG = { VIBEFIXER_STORAGE: 'postgres', VIBEFIXER_PG_URL: 'postgres://app:s3cret@db.internal:5432/game' };

interface IntegerCase {
  env: string;
  field: keyof Config;
  fallback: number;
  min: number;
  max: number;
  valid: [string, number];
  notInteger: [string, string];
  outOfRange: [string, string];
  /** Other variables the knob's edges need, to keep cross-field rules satisfied. */
  alongside?: Record<string, string>;
}

const INTEGER_CASES: IntegerCase[] = [
  { env: 'PORT', field: 'port', fallback: 3000, min: 0, max: 65535, valid: ['8080', 8080],
    notInteger: ['http', 'PORT="http" is not an integer (expected 0..65535)'],
    outOfRange: ['65536', 'PORT="65536" is out of range (expected 0..65535)'] },
  { env: 'VIBEFIXER_RATE_LIMIT_PER_MIN', field: 'rateLimitPerMin', fallback: 600, min: 0, max: 1000000, valid: ['0', 0],
    notInteger: ['600/min', 'VIBEFIXER_RATE_LIMIT_PER_MIN="600/min" is not an integer (expected 0..1000000 requests per minute)'],
    outOfRange: ['-1', 'VIBEFIXER_RATE_LIMIT_PER_MIN="-1" is out of range (expected 0..1000000 requests per minute)'] },
  { env: 'VIBEFIXER_FLUSH_INTERVAL_MS', field: 'flushIntervalMs', fallback: 100, min: 1, max: 60000, valid: ['250', 250],
    notInteger: ['abc', 'VIBEFIXER_FLUSH_INTERVAL_MS="abc" is not an integer (expected 1..60000 milliseconds)'],
    outOfRange: ['0', 'VIBEFIXER_FLUSH_INTERVAL_MS="0" is out of range (expected 1..60000 milliseconds)'] },
  { env: 'VIBEFIXER_FLUSH_MAX_BATCH', field: 'flushMaxBatch', fallback: 500, min: 1, max: 100000, valid: ['800', 800],
    notInteger: ['2k', 'VIBEFIXER_FLUSH_MAX_BATCH="2k" is not an integer (expected 1..100000 entities)'],
    outOfRange: ['100001', 'VIBEFIXER_FLUSH_MAX_BATCH="100001" is out of range (expected 1..100000 entities)'] },
  { env: 'VIBEFIXER_QUEUE_MAX_PENDING', field: 'queueMaxPending', fallback: 200000, min: 1, max: 10000000, valid: ['500000', 500000],
    alongside: { VIBEFIXER_FLUSH_MAX_BATCH: '1' },
    notInteger: ['2e5', 'VIBEFIXER_QUEUE_MAX_PENDING="2e5" is not an integer (expected 1..10000000 entities)'],
    outOfRange: ['10000001', 'VIBEFIXER_QUEUE_MAX_PENDING="10000001" is out of range (expected 1..10000000 entities)'] },
  { env: 'VIBEFIXER_SHUTDOWN_TIMEOUT_MS', field: 'shutdownTimeoutMs', fallback: 10000, min: 100, max: 600000, valid: ['30000', 30000],
    notInteger: ['10s', 'VIBEFIXER_SHUTDOWN_TIMEOUT_MS="10s" is not an integer (expected 100..600000 milliseconds)'],
    outOfRange: ['99', 'VIBEFIXER_SHUTDOWN_TIMEOUT_MS="99" is out of range (expected 100..600000 milliseconds)'] },
  { env: 'VIBEFIXER_DURABLE_WAIT_MS', field: 'durableWaitMs', fallback: 5000, min: 10, max: 600000, valid: ['1000', 1000],
    notInteger: ['5000.0', 'VIBEFIXER_DURABLE_WAIT_MS="5000.0" is not an integer (expected 10..600000 milliseconds)'],
    outOfRange: ['9', 'VIBEFIXER_DURABLE_WAIT_MS="9" is out of range (expected 10..600000 milliseconds)'] },
  { env: 'VIBEFIXER_RETRY_MAX_BACKOFF_MS', field: 'retryMaxBackoffMs', fallback: 5000, min: 10, max: 600000, valid: ['60000', 60000],
    notInteger: ['1_000', 'VIBEFIXER_RETRY_MAX_BACKOFF_MS="1_000" is not an integer (expected 10..600000 milliseconds)'],
    outOfRange: ['600001', 'VIBEFIXER_RETRY_MAX_BACKOFF_MS="600001" is out of range (expected 10..600000 milliseconds)'] },
  { env: 'VIBEFIXER_CHECKPOINT_INTERVAL_MS', field: 'checkpointIntervalMs', fallback: 100, min: 0, max: 3600000, valid: ['0', 0],
    notInteger: ['never', 'VIBEFIXER_CHECKPOINT_INTERVAL_MS="never" is not an integer (expected 0..3600000 milliseconds)'],
    outOfRange: ['3600001', 'VIBEFIXER_CHECKPOINT_INTERVAL_MS="3600001" is out of range (expected 0..3600000 milliseconds)'] },
  { env: 'VIBEFIXER_STALE_SWEEP_INTERVAL_MS', field: 'staleSweepIntervalMs', fallback: 30000, min: 10, max: 3600000, valid: ['60000', 60000],
    notInteger: ['0x10', 'VIBEFIXER_STALE_SWEEP_INTERVAL_MS="0x10" is not an integer (expected 10..3600000 milliseconds)'],
    outOfRange: ['0', 'VIBEFIXER_STALE_SWEEP_INTERVAL_MS="0" is out of range (expected 10..3600000 milliseconds)'] },
  { env: 'VIBEFIXER_SESSION_RETENTION_DAYS', field: 'sessionRetentionDays', fallback: 30, min: 0, max: 36500, valid: ['0', 0],
    notInteger: ['forever', 'VIBEFIXER_SESSION_RETENTION_DAYS="forever" is not an integer (expected 0..36500 days)'],
    outOfRange: ['36501', 'VIBEFIXER_SESSION_RETENTION_DAYS="36501" is out of range (expected 0..36500 days)'] },
  { env: 'VIBEFIXER_HIGH_SCORE_RETENTION_DAYS', field: 'highScoreRetentionDays', fallback: 180, min: 0, max: 36500, valid: ['365', 365],
    notInteger: ['1y', 'VIBEFIXER_HIGH_SCORE_RETENTION_DAYS="1y" is not an integer (expected 0..36500 days)'],
    outOfRange: ['-30', 'VIBEFIXER_HIGH_SCORE_RETENTION_DAYS="-30" is out of range (expected 0..36500 days)'] },
  { env: 'VIBEFIXER_STATS_PUSH_MS', field: 'statsPushMs', fallback: 250, min: 10, max: 60000, valid: ['1000', 1000],
    notInteger: ['+250', 'VIBEFIXER_STATS_PUSH_MS="+250" is not an integer (expected 10..60000 milliseconds)'],
    outOfRange: ['5', 'VIBEFIXER_STATS_PUSH_MS="5" is out of range (expected 10..60000 milliseconds)'] },
  { env: 'VIBEFIXER_WS_MAX_PAYLOAD_BYTES', field: 'wsMaxPayloadBytes', fallback: 102400, min: 1024, max: 16777216, valid: ['65536', 65536],
    notInteger: ['100KiB', 'VIBEFIXER_WS_MAX_PAYLOAD_BYTES="100KiB" is not an integer (expected 1024..16777216 bytes)'],
    outOfRange: ['1023', 'VIBEFIXER_WS_MAX_PAYLOAD_BYTES="1023" is out of range (expected 1024..16777216 bytes)'] },
  { env: 'VIBEFIXER_WS_MAX_BACKPRESSURE_BYTES', field: 'wsMaxBackpressureBytes', fallback: 1048576, min: 1024, max: 1073741824, valid: ['65536', 65536],
    notInteger: ['1M', 'VIBEFIXER_WS_MAX_BACKPRESSURE_BYTES="1M" is not an integer (expected 1024..1073741824 bytes)'],
    outOfRange: ['1073741825', 'VIBEFIXER_WS_MAX_BACKPRESSURE_BYTES="1073741825" is out of range (expected 1024..1073741824 bytes)'] },
  { env: 'VIBEFIXER_WS_IDLE_TIMEOUT_S', field: 'wsIdleTimeoutS', fallback: 120, min: 8, max: 960, valid: ['60', 60],
    notInteger: ['2m', 'VIBEFIXER_WS_IDLE_TIMEOUT_S="2m" is not an integer (expected 8..960 seconds)'],
    outOfRange: ['4', 'VIBEFIXER_WS_IDLE_TIMEOUT_S="4" is out of range (expected 8..960 seconds)'] },
  { env: 'VIBEFIXER_PG_POOL_SIZE', field: 'pgPoolSize', fallback: 4, min: 1, max: 100, valid: ['16', 16],
    alongside: PG,
    notInteger: ['four', 'VIBEFIXER_PG_POOL_SIZE="four" is not an integer (expected 1..100 connections)'],
    outOfRange: ['0', 'VIBEFIXER_PG_POOL_SIZE="0" is out of range (expected 1..100 connections)'] },
  { env: 'VIBEFIXER_PG_STATEMENT_TIMEOUT_MS', field: 'pgStatementTimeoutMs', fallback: 5000, min: 100, max: 600000, valid: ['30000', 30000],
    alongside: PG,
    notInteger: ['5s', 'VIBEFIXER_PG_STATEMENT_TIMEOUT_MS="5s" is not an integer (expected 100..600000 milliseconds)'],
    outOfRange: ['99', 'VIBEFIXER_PG_STATEMENT_TIMEOUT_MS="99" is out of range (expected 100..600000 milliseconds)'] },
  { env: 'VIBEFIXER_WS_MAX_CONNECTIONS', field: 'wsMaxConnections', fallback: 10000, min: 1, max: 1000000, valid: ['50000', 50000],
    notInteger: ['unlimited', 'VIBEFIXER_WS_MAX_CONNECTIONS="unlimited" is not an integer (expected 1..1000000 connections)'],
    outOfRange: ['0', 'VIBEFIXER_WS_MAX_CONNECTIONS="0" is out of range (expected 1..1000000 connections)'] },
];

describe('loadConfig: integer knobs', () => {
  for (const c of INTEGER_CASES) {
    it(`${c.env} defaults to ${c.fallback}, takes ${c.valid[0]}, accepts ${c.min} and ${c.max}, and names a bad value with its range`, () => {
      const set = (raw: string) => ({ ...c.alongside, [c.env]: raw });
      expect(load({})[c.field]).toBe(c.fallback);
      expect(load(set(c.valid[0]))[c.field]).toBe(c.valid[1]);
      expect(load(set(String(c.min)))[c.field]).toBe(c.min);
      expect(load(set(String(c.max)))[c.field]).toBe(c.max);
      expect(problemsOf(set(c.notInteger[0]))).toEqual([c.notInteger[1]]);
      expect(problemsOf(set(c.outOfRange[0]))).toEqual([c.outOfRange[1]]);
      expect(problemsOf(set(String(c.max + 1)))[0]).toMatch(/ is out of range \(expected /);
      expect(problemsOf(set(String(c.min - 1)))[0]).toMatch(/ is out of range \(expected /);
    });
  }

  it('refuses every integer spelling but plain decimal digits, instead of reading a prefix or a float', () => {
    for (const raw of ['12abc', '1e3', '1.5', '100.0', ' 100', '100 ', '+100', '0x10', '1_000', '1,000', 'Infinity', 'NaN', '--5']) {
      expect(problemsOf({ VIBEFIXER_FLUSH_INTERVAL_MS: raw })).toEqual([
        `VIBEFIXER_FLUSH_INTERVAL_MS=${JSON.stringify(raw)} is not an integer (expected 1..60000 milliseconds)`,
      ]);
    }
  });

  it('reads leading zeros and "-0" as the plain number', () => {
    expect(load({ VIBEFIXER_FLUSH_INTERVAL_MS: '0250' }).flushIntervalMs).toBe(250);
    expect(Object.is(load({ PORT: '-0' }).port, 0)).toBe(true);
  });

  it('refuses a number too large to be exact as out of range, not as some nearby value', () => {
    expect(problemsOf({ VIBEFIXER_QUEUE_MAX_PENDING: '99999999999999999999' })).toEqual([
      'VIBEFIXER_QUEUE_MAX_PENDING="99999999999999999999" is out of range (expected 1..10000000 entities)',
    ]);
  });
});

describe('loadConfig: empty and unset', () => {
  it('treats an empty value as a mistake, not as unset', () => {
    expect(problemsOf({ VIBEFIXER_FLUSH_INTERVAL_MS: '' })).toEqual([
      'VIBEFIXER_FLUSH_INTERVAL_MS="" is empty, not unset (expected 1..60000 milliseconds)',
    ]);
    expect(problemsOf({ VIBEFIXER_ACK: '' })).toEqual(['VIBEFIXER_ACK="" is empty, not unset (expected durable or memory)']);
    expect(problemsOf({ HOST: '' })).toEqual(['HOST="" is empty, not unset (expected a host name or IP address)']);
  });

  it('treats an undefined value as unset', () => {
    expect(load({ VIBEFIXER_ACK: undefined, VIBEFIXER_TYPO: undefined }).ack).toBe('durable');
  });
});

describe('loadConfig: string, path, boolean and enum knobs', () => {
  it('HOST defaults to 0.0.0.0, takes a name, and refuses blanks and stray whitespace', () => {
    expect(load({}).host).toBe(DEFAULT_HOST);
    expect(load({ HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
    expect(problemsOf({ HOST: '   ' })).toEqual(['HOST="   " is blank (expected a host name or IP address)']);
    expect(problemsOf({ HOST: 'localhost ' })).toEqual([
      'HOST="localhost " has leading or trailing whitespace (expected a host name or IP address)',
    ]);
  });

  it('VIBEFIXER_DB_PATH defaults to data/vibefixer.sqlite under cwd and resolves a relative path against cwd', () => {
    expect(load({}).dbPath).toBe(resolve(CWD, DEFAULT_DB_PATH));
    expect(load({}).dbPath).toBe('/srv/vibefixer/data/vibefixer.sqlite');
    expect(load({ VIBEFIXER_DB_PATH: 'db/game.sqlite' }).dbPath).toBe('/srv/vibefixer/db/game.sqlite');
    expect(load({ VIBEFIXER_DB_PATH: '/var/lib/vibefixer/db.sqlite' }).dbPath).toBe('/var/lib/vibefixer/db.sqlite');
  });

  it('VIBEFIXER_DB_PATH refuses :memory: and says why', () => {
    expect(problemsOf({ VIBEFIXER_DB_PATH: ':memory:' })).toEqual([
      'VIBEFIXER_DB_PATH=":memory:" is not allowed: the persistence worker thread owns a database file, and an in-memory database would lose every write at restart (expected a file path)',
    ]);
  });

  it('VIBEFIXER_STATIC_DIR defaults to none and resolves a set directory against cwd', () => {
    expect(load({}).staticDir).toBeNull();
    expect(load({ VIBEFIXER_STATIC_DIR: 'public' }).staticDir).toBe('/srv/vibefixer/public');
    expect(problemsOf({ VIBEFIXER_STATIC_DIR: ' ' })).toEqual(['VIBEFIXER_STATIC_DIR=" " is blank (expected a directory path)']);
  });

  it('VIBEFIXER_TRUST_PROXY defaults to false and takes exactly true, false, 1 or 0 in any case', () => {
    expect(load({}).trustProxy).toBe(DEFAULT_TRUST_PROXY);
    for (const raw of ['true', 'TRUE', 'True', '1']) expect(load({ VIBEFIXER_TRUST_PROXY: raw }).trustProxy).toBe(true);
    for (const raw of ['false', 'FALSE', '0']) expect(load({ VIBEFIXER_TRUST_PROXY: raw }).trustProxy).toBe(false);
    for (const raw of ['yes', 'no', 'on', 'off', '2', 't', ' true']) {
      expect(problemsOf({ VIBEFIXER_TRUST_PROXY: raw })).toEqual([
        `VIBEFIXER_TRUST_PROXY=${JSON.stringify(raw)} is not a boolean (expected true, false, 1 or 0)`,
      ]);
    }
  });

  it('VIBEFIXER_ACK defaults to durable, takes memory in any case, and lists the accepted values', () => {
    expect(load({}).ack).toBe(DEFAULT_ACK);
    expect(load({ VIBEFIXER_ACK: 'memory' }).ack).toBe('memory');
    expect(load({ VIBEFIXER_ACK: 'MEMORY' }).ack).toBe('memory');
    expect(problemsOf({ VIBEFIXER_ACK: 'fast' })).toEqual([
      'VIBEFIXER_ACK="fast" is not an accepted value (expected durable or memory)',
    ]);
  });

  it('VIBEFIXER_SQLITE_SYNCHRONOUS defaults to NORMAL and normalises the spelling to upper case', () => {
    expect(load({}).sqliteSynchronous).toBe(DEFAULT_SQLITE_SYNCHRONOUS);
    expect(load({ VIBEFIXER_SQLITE_SYNCHRONOUS: 'full' }).sqliteSynchronous).toBe('FULL');
    expect(problemsOf({ VIBEFIXER_SQLITE_SYNCHRONOUS: 'OFF' })).toEqual([
      'VIBEFIXER_SQLITE_SYNCHRONOUS="OFF" is not an accepted value (expected NORMAL or FULL)',
    ]);
  });

  it('VIBEFIXER_LOG_LEVEL defaults to info and normalises the spelling to lower case', () => {
    expect(load({}).logLevel).toBe(DEFAULT_LOG_LEVEL);
    expect(load({ VIBEFIXER_LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug');
    expect(load({ VIBEFIXER_LOG_LEVEL: 'silent' }).logLevel).toBe('silent');
    expect(problemsOf({ VIBEFIXER_LOG_LEVEL: 'verbose' })).toEqual([
      'VIBEFIXER_LOG_LEVEL="verbose" is not an accepted value (expected fatal, error, warn, info, debug, trace or silent)',
    ]);
  });
});

describe('loadConfig: names', () => {
  it('refuses a misspelt VIBEFIXER_ name and suggests the closest known one', () => {
    expect(problemsOf({ VIBEFIXER_FLUSH_INTERVALL_MS: '100' })).toEqual([
      'VIBEFIXER_FLUSH_INTERVALL_MS is not a known setting; did you mean VIBEFIXER_FLUSH_INTERVAL_MS?',
    ]);
    expect(problemsOf({ VIBEFIXER_AKC: 'memory' })).toEqual(['VIBEFIXER_AKC is not a known setting; did you mean VIBEFIXER_ACK?']);
  });

  it('refuses a known name in the wrong case and suggests the right spelling', () => {
    expect(problemsOf({ vibefixer_ack: 'memory' })).toEqual(['vibefixer_ack is not a known setting; did you mean VIBEFIXER_ACK?']);
  });

  it('refuses a VIBEFIXER_ name far from every known one without a misleading guess', () => {
    expect(problemsOf({ VIBEFIXER_COLOUR_SCHEME: 'dark' })).toEqual([
      'VIBEFIXER_COLOUR_SCHEME is not a known setting; see README.md for the list',
    ]);
  });

  it('answers a search for a separate metrics port with the token setting', () => {
    expect(problemsOf({ VIBEFIXER_METRICS_PORT: '9100' })).toEqual([
      'VIBEFIXER_METRICS_PORT is not a known setting; /metrics is served on PORT; keep it private with VIBEFIXER_METRICS_TOKEN',
    ]);
  });

  it('points VIBEFIXER_PORT and VIBEFIXER_HOST to PORT and HOST, and says the body limit is not a knob', () => {
    expect(problemsOf({ VIBEFIXER_PORT: '80', VIBEFIXER_HOST: 'x', VIBEFIXER_BODY_LIMIT_BYTES: '1' })).toEqual([
      'VIBEFIXER_PORT is not a known setting; did you mean PORT?',
      'VIBEFIXER_HOST is not a known setting; did you mean HOST?',
      'VIBEFIXER_BODY_LIMIT_BYTES is not a known setting; the 100 KiB body limit is fixed by the API contract',
    ]);
  });

  it('VIBEFIXER_METRICS_TOKEN defaults to none, takes a 16..256-character bearer token, and never echoes a bad one', () => {
    expect(load({}).metricsToken).toBeNull();
    const token = 'k9-Fq_2.Zx~+/abcdEF==';
    expect(load({ VIBEFIXER_METRICS_TOKEN: token }).metricsToken).toBe(token);
    expect(load({ VIBEFIXER_METRICS_TOKEN: 'a'.repeat(256) }).metricsToken).toBe('a'.repeat(256));
    const expected = '(expected 16..256 characters of A-Z a-z 0-9 - . _ ~ + / =)';
    expect(problemsOf({ VIBEFIXER_METRICS_TOKEN: 'short-secret' })).toEqual([`VIBEFIXER_METRICS_TOKEN="[REDACTED]" is too short ${expected}`]);
    expect(problemsOf({ VIBEFIXER_METRICS_TOKEN: 'a'.repeat(257) })).toEqual([`VIBEFIXER_METRICS_TOKEN="[REDACTED]" is too long ${expected}`]);
    expect(problemsOf({ VIBEFIXER_METRICS_TOKEN: 'has a space in it!!' })).toEqual([
      `VIBEFIXER_METRICS_TOKEN="[REDACTED]" has characters a bearer token cannot carry ${expected}`,
    ]);
  });

  it('logs the configuration with the metrics token redacted, and knows which hosts are loopback', () => {
    const token = 'super-secret-token-123';
    const shown = JSON.stringify(printableConfig(load({ VIBEFIXER_METRICS_TOKEN: token })));
    expect(shown).not.toContain(token);
    expect(JSON.parse(shown).metricsToken).toBe('[REDACTED]');
    expect(printableConfig(load({})).metricsToken).toBeNull();
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.5', 'example.org'].some(isLoopbackHost)).toBe(false);
  });

  it('ignores variables outside the VIBEFIXER_ namespace', () => {
    expect(() => load({ PATH: '/usr/bin', NODE_ENV: 'production', VIBEFIXER: 'x', HOME: '/root' })).not.toThrow();
  });
});

describe('loadConfig: the whole result', () => {
  it('loads every default from an empty environment', () => {
    expect(load({})).toEqual({
      port: 3000, host: '0.0.0.0', storage: 'sqlite', dbPath: '/srv/vibefixer/data/vibefixer.sqlite', pgUrl: null,
      pgPoolSize: 4, pgStatementTimeoutMs: 5000, staticDir: null,
      rateLimitPerMin: 600, trustProxy: false, ack: 'durable', flushIntervalMs: 100, flushMaxBatch: 500,
      queueMaxPending: 200000, sqliteSynchronous: 'NORMAL', shutdownTimeoutMs: 10000, durableWaitMs: 5000,
      retryMaxBackoffMs: 5000, checkpointIntervalMs: 100, staleSweepIntervalMs: 30000, sessionRetentionDays: 30,
      highScoreRetentionDays: 180, logLevel: 'info', statsPushMs: 250, wsMaxPayloadBytes: 102400,
      wsMaxBackpressureBytes: 1048576, wsIdleTimeoutS: 120, wsMaxConnections: 10000, metricsToken: null,
      adminUser: null, adminPassword: null, adminPasswordHash: null, nodeEnv: null,
      auditRetentionDays: 30, auditMaxRows: 100000,
    });
  });

  it('returns a frozen object that cannot be changed after start-up', () => {
    const config = load({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('reads only the object it is given, never the real process environment', () => {
    const saved = process.env.VIBEFIXER_ACK;
    process.env.VIBEFIXER_ACK = 'memory';
    try {
      expect(load({}).ack).toBe('durable');
    } finally {
      if (saved === undefined) delete process.env.VIBEFIXER_ACK;
      else process.env.VIBEFIXER_ACK = saved;
    }
  });

  it('reports every problem at once, one per line of the message', () => {
    let caught: unknown;
    try {
      load({ PORT: 'x', VIBEFIXER_ACK: 'fast', VIBEFIXER_TRUST_PROXY: 'yes', VIBEFIXER_FLUSH_INTERVALL_MS: '1' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.name).toBe('ConfigError');
    expect(error.problems).toEqual([
      'PORT="x" is not an integer (expected 0..65535)',
      'VIBEFIXER_TRUST_PROXY="yes" is not a boolean (expected true, false, 1 or 0)',
      'VIBEFIXER_ACK="fast" is not an accepted value (expected durable or memory)',
      'VIBEFIXER_FLUSH_INTERVALL_MS is not a known setting; did you mean VIBEFIXER_FLUSH_INTERVAL_MS?',
    ]);
    expect(error.message).toBe(error.problems.join('\n'));
  });
});

describe('loadConfig: cross-field rules', () => {
  it('refuses a queue smaller than one flush batch, naming both variables and which one is a default', () => {
    expect(problemsOf({ VIBEFIXER_QUEUE_MAX_PENDING: '100' })).toEqual([
      'VIBEFIXER_QUEUE_MAX_PENDING=100 is less than VIBEFIXER_FLUSH_MAX_BATCH=500 (default): the queue must hold at least one full batch',
    ]);
    expect(problemsOf({ VIBEFIXER_QUEUE_MAX_PENDING: '499', VIBEFIXER_FLUSH_MAX_BATCH: '500' })).toEqual([
      'VIBEFIXER_QUEUE_MAX_PENDING=499 is less than VIBEFIXER_FLUSH_MAX_BATCH=500: the queue must hold at least one full batch',
    ]);
  });

  it('accepts a queue exactly one batch deep', () => {
    const config = load({ VIBEFIXER_QUEUE_MAX_PENDING: '500', VIBEFIXER_FLUSH_MAX_BATCH: '500' });
    expect(config.queueMaxPending).toBe(500);
  });

  it('checks a cross-field rule only when both values are valid, so one mistake gives one line', () => {
    expect(problemsOf({ VIBEFIXER_QUEUE_MAX_PENDING: '1000', VIBEFIXER_FLUSH_MAX_BATCH: 'lots' })).toEqual([
      'VIBEFIXER_FLUSH_MAX_BATCH="lots" is not an integer (expected 1..100000 entities)',
    ]);
  });

  it('keeps the WebSocket payload limit at 1024 bytes or more', () => {
    expect(problemsOf({ VIBEFIXER_WS_MAX_PAYLOAD_BYTES: '512' })).toEqual([
      'VIBEFIXER_WS_MAX_PAYLOAD_BYTES="512" is out of range (expected 1024..16777216 bytes)',
    ]);
  });
});

describe('loadConfig: storage driver', () => {
  it('VIBEFIXER_STORAGE defaults to sqlite and takes postgres in any case', () => {
    expect(load({}).storage).toBe(DEFAULT_STORAGE);
    expect(load({ ...PG, VIBEFIXER_STORAGE: 'PostgreS' }).storage).toBe('postgres');
    expect(problemsOf({ VIBEFIXER_STORAGE: 'mysql' })).toEqual([
      'VIBEFIXER_STORAGE="mysql" is not an accepted value (expected sqlite or postgres)',
    ]);
  });

  it('takes a postgres:// or postgresql:// URL as it is, with the pool and timeout knobs', () => {
    const config = load({ ...PG, VIBEFIXER_PG_POOL_SIZE: '8', VIBEFIXER_PG_STATEMENT_TIMEOUT_MS: '2500' });
    expect(config).toMatchObject({ storage: 'postgres', pgUrl: PG.VIBEFIXER_PG_URL, pgPoolSize: 8, pgStatementTimeoutMs: 2500 });
    const other = 'postgresql://db.internal/game?sslmode=require&application_name=x';
    expect(load({ ...PG, VIBEFIXER_PG_URL: other }).pgUrl).toBe(other);
  });

  it('refuses a VIBEFIXER_PG_URL that is not a PostgreSQL URL with a host, never showing its password', () => {
    const cases: Array<[string, string]> = [
      ['db.internal:5432/game', 'VIBEFIXER_PG_URL="db.internal:5432/game" is not a postgres:// URL'],
      ['mysql://app:s3cret@db/game', 'VIBEFIXER_PG_URL="mysql://app:***@db/game" is not a postgres:// URL'],
      ['postgres:///game', 'VIBEFIXER_PG_URL="postgres:///game" has no host'],
      ['postgres://app:s3cret@/game', 'VIBEFIXER_PG_URL="postgres://app:***@/game" is not a URL'],
      ['postgres://app:s3cret@db:port/game', 'VIBEFIXER_PG_URL="postgres://app:***@db:port/game" is not a URL'],
      ['postgres://db/game?password=s3cret ', 'VIBEFIXER_PG_URL="postgres://db/game?password=*** " has leading or trailing whitespace'],
      ['not a url', 'VIBEFIXER_PG_URL="not a url" is not a URL'],
    ];
    for (const [raw, line] of cases) {
      expect(problemsOf({ ...PG, VIBEFIXER_PG_URL: raw })).toEqual([`${line} (expected a postgres:// or postgresql:// URL with a host)`]);
    }
    expect(problemsOf({ ...PG, VIBEFIXER_PG_URL: '' })).toEqual([
      'VIBEFIXER_PG_URL="" is empty, not unset (expected a postgres:// or postgresql:// URL with a host)',
    ]);
  });

  it('needs VIBEFIXER_PG_URL with postgres, and ignores the SQLite knobs then (the Docker image sets VIBEFIXER_DB_PATH)', () => {
    expect(problemsOf({ VIBEFIXER_STORAGE: 'postgres' })).toEqual([
      'VIBEFIXER_STORAGE=postgres needs VIBEFIXER_PG_URL (the database to connect to)',
    ]);
    expect(load({ ...PG, VIBEFIXER_DB_PATH: '/data/vibefixer.sqlite', VIBEFIXER_SQLITE_SYNCHRONOUS: 'FULL' }).storage).toBe('postgres');
  });

  it('refuses the PostgreSQL knobs with sqlite (the default), so a forgotten VIBEFIXER_STORAGE is not silently SQLite', () => {
    expect(problemsOf({ VIBEFIXER_PG_URL: PG.VIBEFIXER_PG_URL, VIBEFIXER_PG_POOL_SIZE: '2', VIBEFIXER_PG_STATEMENT_TIMEOUT_MS: '1000' })).toEqual([
      'VIBEFIXER_PG_URL is set but VIBEFIXER_STORAGE=sqlite (default): it applies to PostgreSQL only; set VIBEFIXER_STORAGE=postgres or unset it',
      'VIBEFIXER_PG_POOL_SIZE is set but VIBEFIXER_STORAGE=sqlite (default): it applies to PostgreSQL only; set VIBEFIXER_STORAGE=postgres or unset it',
      'VIBEFIXER_PG_STATEMENT_TIMEOUT_MS is set but VIBEFIXER_STORAGE=sqlite (default): it applies to PostgreSQL only; set VIBEFIXER_STORAGE=postgres or unset it',
    ]);
  });

  it('checks the storage rules only when VIBEFIXER_STORAGE itself is valid', () => {
    expect(problemsOf({ VIBEFIXER_STORAGE: 'pg', VIBEFIXER_PG_URL: PG.VIBEFIXER_PG_URL })).toEqual([
      'VIBEFIXER_STORAGE="pg" is not an accepted value (expected sqlite or postgres)',
    ]);
  });

  it('masks the password when the configuration is logged', () => {
    const logged = printableConfig(load(PG));
    expect(logged.pgUrl).toBe('postgres://app:***@db.internal:5432/game');
    expect(JSON.stringify(logged)).not.toContain('s3cret');
    expect(printableConfig(load({})).pgUrl).toBeNull();
  });
});

describe('describeDurability', () => {
  it('states what a PostgreSQL commit survives, without the SQLite setting', () => {
    expect(describeDurability(load(PG))).toBe(
      'ack=durable, storage=postgres: an answered write survives a crash of this process and of PostgreSQL (a commit returns after the WAL is flushed, if the server keeps synchronous_commit=on and fsync=on)',
    );
    expect(describeDurability(load({ ...PG, VIBEFIXER_ACK: 'memory' }))).toBe(
      'ack=memory, flush every 100 ms, storage=postgres: a process crash loses at most the writes of the last ~100 ms plus one commit (while commits fail: every pending write, up to 200000 entities)',
    );
  });

  it('states that durable answers survive a crash, and a power loss only with FULL', () => {
    expect(describeDurability(load({}))).toBe(
      'ack=durable, synchronous=NORMAL: an answered write survives a process crash (kill -9); a power loss may lose the last commits (those since the last WAL checkpoint)',
    );
    expect(describeDurability(load({ VIBEFIXER_SQLITE_SYNCHRONOUS: 'FULL' }))).toBe(
      'ack=durable, synchronous=FULL: an answered write survives a process crash (kill -9) and a power loss (one fsync per commit)',
    );
  });

  it('states the loss window of memory answers from the flush interval and the queue bound', () => {
    expect(describeDurability(load({ VIBEFIXER_ACK: 'memory' }))).toBe(
      'ack=memory, flush every 100 ms, synchronous=NORMAL: a process crash loses at most the writes of the last ~100 ms plus one commit (while commits fail: every pending write, up to 200000 entities); a power loss may also lose the commits since the last WAL checkpoint',
    );
    expect(
      describeDurability(
        load({ VIBEFIXER_ACK: 'memory', VIBEFIXER_FLUSH_INTERVAL_MS: '20', VIBEFIXER_SQLITE_SYNCHRONOUS: 'FULL', VIBEFIXER_QUEUE_MAX_PENDING: '5000' }),
      ),
    ).toBe(
      'ack=memory, flush every 20 ms, synchronous=FULL: a process crash or a power loss loses at most the writes of the last ~20 ms plus one commit (while commits fail: every pending write, up to 5000 entities)',
    );
  });
});

describe('loadConfig: admin console', () => {
  const HASH = makeScryptHash('s3cret', 1024, 8, 1);

  it('leaves admin unconfigured when the variables are unset or empty (docker-compose passes them empty)', () => {
    expect(adminConfigured(load({}))).toBe(false);
    const empty = load({ ADMIN_USER: '', ADMIN_PASSWORD: '', ADMIN_PASSWORD_HASH: '', NODE_ENV: '' });
    expect(adminConfigured(empty)).toBe(false);
    expect(empty.adminUser).toBeNull();
  });

  it('configures admin with a user and either a plain password or its scrypt hash', () => {
    const plain = load({ ADMIN_USER: 'admin', ADMIN_PASSWORD: 's3cret' });
    expect(adminConfigured(plain)).toBe(true);
    expect(plain.adminPassword).toBe('s3cret');
    const hashed = load({ ADMIN_USER: 'admin', ADMIN_PASSWORD_HASH: HASH });
    expect(adminConfigured(hashed)).toBe(true);
    expect(hashed.adminPasswordHash).toBe(HASH);
  });

  it('refuses half a configuration, both secrets at once, and values the login could never match', () => {
    expect(problemsOf({ ADMIN_USER: 'admin' })).toEqual(['ADMIN_USER is set without ADMIN_PASSWORD or ADMIN_PASSWORD_HASH: admin would stay locked']);
    expect(problemsOf({ ADMIN_PASSWORD: 's3cret' })).toEqual(['ADMIN_PASSWORD is set without ADMIN_USER: admin would stay locked']);
    expect(problemsOf({ ADMIN_USER: 'a', ADMIN_PASSWORD: 'p', ADMIN_PASSWORD_HASH: HASH })).toEqual([
      'ADMIN_PASSWORD and ADMIN_PASSWORD_HASH are both set: keep only one (the hash is the safer)',
    ]);
    expect(problemsOf({ ADMIN_USER: ' admin', ADMIN_PASSWORD: 'p' })).toEqual([
      'ADMIN_USER=" admin" has leading or trailing whitespace (expected 1..64 characters, no surrounding whitespace)',
    ]);
    expect(problemsOf({ ADMIN_USER: 'u'.repeat(65), ADMIN_PASSWORD: 'p' })[0]).toContain('is longer than 64 characters');
  });

  it('never echoes a password or a hash in a configuration error', () => {
    const problems = problemsOf({ ADMIN_USER: 'admin', ADMIN_PASSWORD: ' hunter2 ' });
    expect(problems).toEqual(['ADMIN_PASSWORD="[REDACTED]" has leading or trailing whitespace (expected 1..128 characters, no surrounding whitespace)']);
    const bad = problemsOf({ ADMIN_USER: 'admin', ADMIN_PASSWORD_HASH: 'md5$abcdef' });
    expect(bad).toEqual(['ADMIN_PASSWORD_HASH="[REDACTED]" is not scrypt$N$r$p$salt$key (make one with `npm run admin:hash`) (expected scrypt$N$r$p$salt$key from `npm run admin:hash`)']);
    expect(bad.join()).not.toContain('abcdef');
  });

  it('keeps secrets out of the configuration it logs', () => {
    const printable = JSON.stringify(printableConfig(load({ ADMIN_USER: 'admin', ADMIN_PASSWORD: 'hunter2' })));
    expect(printable).not.toContain('hunter2');
    expect(printable).toContain('"adminUser":"admin"');
  });

  it('takes NODE_ENV as given (production adds Secure to the admin cookie)', () => {
    expect(load({ NODE_ENV: 'production' }).nodeEnv).toBe('production');
    expect(load({ NODE_ENV: 'test' }).nodeEnv).toBe('test');
  });

  it('checks the audit log bounds', () => {
    expect(load({ VIBEFIXER_AUDIT_RETENTION_DAYS: '0', VIBEFIXER_AUDIT_MAX_ROWS: '5000' })).toMatchObject({ auditRetentionDays: 0, auditMaxRows: 5000 });
    expect(problemsOf({ VIBEFIXER_AUDIT_MAX_ROWS: '999' })).toEqual(['VIBEFIXER_AUDIT_MAX_ROWS="999" is out of range (expected 1000..10000000 rows)']);
  });
});

describe('README.md', () => {
  const doc = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  // The settings table runs from its "| Variable |" header to the first line that is not a row.
  const table = doc.slice(doc.indexOf('| Variable |')).split('\n\n')[0];
  const rows = [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]);

  it('has a table row for every variable loadConfig reads, and none for a variable it does not', () => {
    expect([...rows].sort()).toEqual([...CONFIG_ENV_NAMES].sort());
  });
});
