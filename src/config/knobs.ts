// Knob kinds: how one environment value is parsed, strictly, into a typed setting.
//
// Each kind knows what it accepts (`expected`, shown in errors and matching README.md),
// its value when the variable is unset, and how to parse a set, non-empty value. A bad value is a
// Rejection, never a silent fall-back to the default: no `parseInt(x) || d`, no "12abc", no "1e3".

import { resolve } from 'node:path';

/** Why a set value was refused; the caller adds the variable name, the value and `expected`. */
export class Rejection {
  constructor(readonly why: string) {}
}

export interface Knob<T> {
  /** The environment variable, e.g. "VIBEFIXER_FLUSH_INTERVAL_MS". */
  readonly env: string;
  /** What is accepted, e.g. "1..60000 milliseconds". */
  readonly expected: string;
  /** The value when the variable is unset; paths resolve against `cwd`. */
  readonly fallback: (cwd: string) => T;
  /** Parses a set, non-empty value. */
  readonly parse: (raw: string, cwd: string) => T | Rejection;
  /**
   * A set but empty value means "unset" (only for variables that docker-compose passes through
   * as `NAME=${NAME}`, which arrive empty when the operator left them out). Default: an error.
   */
  readonly emptyIsUnset?: boolean;
  /** A secret: its value is never repeated in an error message. */
  readonly secret?: boolean;
  /** How a set value is shown in a problem line; absent = as is. Secrets are masked here. */
  readonly shown?: (raw: string) => string;
}

const INTEGER = /^-?\d+$/;

/** A whole number in min..max; `unit` is named in errors ("milliseconds", "bytes"). */
export function integerKnob(env: string, fallback: number, min: number, max: number, unit = ''): Knob<number> {
  return {
    env,
    expected: unit === '' ? `${min}..${max}` : `${min}..${max} ${unit}`,
    fallback: () => fallback,
    parse: (raw) => {
      if (!INTEGER.test(raw)) return new Rejection('is not an integer');
      const value = Number(raw) + 0; // + 0 turns "-0" into 0
      return value >= min && value <= max ? value : new Rejection('is out of range');
    },
  };
}

/** Exactly true|false|1|0, in any case; "yes", "on" and "" are refused. */
export function booleanKnob(env: string, fallback: boolean): Knob<boolean> {
  return {
    env,
    expected: 'true, false, 1 or 0',
    fallback: () => fallback,
    parse: (raw) => {
      switch (raw.toLowerCase()) {
        case 'true':
        case '1':
          return true;
        case 'false':
        case '0':
          return false;
        default:
          return new Rejection('is not a boolean');
      }
    },
  };
}

/** One of `values`, matched case-insensitively and returned in its canonical spelling. */
export function oneOfKnob<T extends string>(env: string, values: readonly T[], fallback: T): Knob<T> {
  const listed = values.length === 1 ? values[0] : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
  return {
    env,
    expected: listed,
    fallback: () => fallback,
    parse: (raw) =>
      values.find((value) => value.toLowerCase() === raw.toLowerCase()) ?? new Rejection('is not an accepted value'),
  };
}

function untrimmed(raw: string): Rejection | undefined {
  if (raw.trim() === '') return new Rejection('is blank');
  if (raw.trim() !== raw) return new Rejection('has leading or trailing whitespace');
  return undefined;
}

/** A non-blank string without surrounding whitespace, taken as is. */
export function textKnob(env: string, fallback: string, expected: string): Knob<string> {
  return { env, expected, fallback: () => fallback, parse: (raw) => untrimmed(raw) ?? raw };
}

/**
 * A path resolved against `cwd`; a null fallback means "none" when unset. `refused` maps values that
 * look like paths but must not be used to the reason why (e.g. SQLite's ":memory:").
 */
export function pathKnob<F extends string | null>(
  env: string,
  fallback: F,
  expected: string,
  refused: Readonly<Record<string, string>> = {},
): Knob<string | F> {
  return {
    env,
    expected,
    fallback: (cwd) => (fallback === null ? fallback : resolve(cwd, fallback)),
    parse: (raw, cwd) => {
      const why = Object.hasOwn(refused, raw) ? refused[raw] : undefined;
      return untrimmed(raw) ?? (why === undefined ? resolve(cwd, raw) : new Rejection(why));
    },
  };
}

/**
 * An optional secret or name: unset or empty = null (not configured). Set, it must have no
 * surrounding whitespace (the login trims what is typed, so such a value could never match) and at
 * most `maxLength` characters (longer input is refused at the login door).
 */
export function optionalTextKnob(env: string, maxLength: number, expected: string, check?: (raw: string) => string | undefined): Knob<string | null> {
  return {
    env,
    expected,
    emptyIsUnset: true,
    fallback: () => null,
    parse: (raw) => {
      if (raw.trim() !== raw) return new Rejection('has leading or trailing whitespace');
      if (raw.length > maxLength) return new Rejection(`is longer than ${maxLength} characters`);
      const why = check?.(raw);
      return why === undefined ? raw : new Rejection(why);
    },
  };
}

/** Any non-blank value, taken as is (e.g. NODE_ENV, whose values other tools define). */
export function anyTextKnob(env: string, expected: string): Knob<string | null> {
  return { env, expected, emptyIsUnset: true, fallback: () => null, parse: (raw) => (raw.trim() === '' ? new Rejection('is blank') : raw) };
}

const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

/**
 * A secret bearer token (RFC 6750 token characters), `min`..`max` characters; unset = none. Its
 * value never appears in an error message or a log line.
 */
export function secretKnob(env: string, min: number, max: number): Knob<string | null> {
  return {
    env,
    expected: `${min}..${max} characters of A-Z a-z 0-9 - . _ ~ + / =`,
    fallback: () => null,
    secret: true,
    parse: (raw) => {
      if (raw.length < min || raw.length > max) return new Rejection(raw.length < min ? 'is too short' : 'is too long');
      return BEARER_TOKEN.test(raw) ? raw : new Rejection('has characters a bearer token cannot carry');
    },
  };
}

/**
 * The password of a connection URL replaced by `***` (in `user:password@` and in a `password=`
 * query parameter), whether or not the rest parses: safe for error lines and logs.
 */
export function maskUrlPassword(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*:).*@/i, '$1***@').replace(/([?&]password=)[^&#\s]*/gi, '$1***');
}

/**
 * A PostgreSQL connection URL (postgres:// or postgresql://, with a host); null when unset. Its
 * password never appears in a problem line.
 */
export function postgresUrlKnob(env: string): Knob<string | null> {
  return {
    env,
    expected: 'a postgres:// or postgresql:// URL with a host',
    fallback: () => null,
    shown: maskUrlPassword,
    parse: (raw) => {
      const bad = untrimmed(raw);
      if (bad !== undefined) return bad;
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return new Rejection('is not a URL');
      }
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return new Rejection('is not a postgres:// URL');
      if (url.hostname === '') return new Rejection('has no host');
      return raw;
    },
  };
}
