/**
 * Field validation at the door. Each field has a JSON schema (compiled once by Ajv), a
 * normaliser for the contract's few quirks (trimming, case-insensitive enums, falsy defaults)
 * and the exact error string the original sends. Fields are checked in the contract's order and
 * the first failure wins, so the error text is the same as the original's.
 * Every string field must be well-formed Unicode: a lone surrogate (`"\ud800"` in JSON, or in a
 * msgpack frame) would be answered as sent but stored as U+FFFD (SQLite text is UTF-8), so it is
 * refused here with the field's own error, before anything changes.
 */
import { Ajv, type ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: false, strict: true });
// JSON cannot carry NaN or Infinity but msgpack frames can; the rules assume finite numbers.
ajv.addKeyword({
  keyword: 'finite',
  type: 'number',
  schemaType: 'boolean',
  validate: (wanted: boolean, value: number) => !wanted || Number.isFinite(value),
});

/** A failed check: the contract's error string. */
export class Invalid {
  constructor(readonly message: string) {}
}

export interface Field<T> {
  /** Returns the typed value, or Invalid with the exact error string. */
  read(body: Record<string, unknown>): T | Invalid;
}

/** Matches a lone surrogate only: with the `u` flag a valid pair is one code point, not a surrogate. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** True for a string that is well-formed Unicode (String.prototype.isWellFormed, Node 20+). */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

export function field<T>(
  name: string,
  schema: object,
  message: string,
  normalise: (value: unknown) => T | undefined,
  presence: 'required' | 'optional' = 'required',
): Field<T> {
  const validate: ValidateFunction = ajv.compile(schema);
  const invalid = new Invalid(message);
  return {
    read(body) {
      const value = body[name];
      if (value === undefined) {
        if (presence === 'required') return invalid;
      } else if (!validate(value) || (typeof value === 'string' && !isWellFormed(value))) {
        return invalid;
      }
      const typed = normalise(value);
      return typed === undefined ? invalid : typed;
    },
  };
}

export const finiteNumber = { type: 'number', finite: true };

/** A string that is non-blank and at most `max` characters once trimmed. */
export function trimmedString(max: number): (value: unknown) => string | undefined {
  return (value) => {
    const trimmed = (value as string).trim();
    return trimmed.length > 0 && trimmed.length <= max ? trimmed : undefined;
  };
}

/** Case-insensitive match against canonical spellings; returns the canonical one. */
export function oneOf<T extends string>(...allowed: T[]): (value: unknown) => T | undefined {
  const byLower = new Map(allowed.map((a) => [a.toLowerCase(), a]));
  return (value) => byLower.get((value as string).toLowerCase());
}

/** Bodies that are not JSON objects behave as if every field were missing (CONTRACT §1.4). */
export function asFields(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
