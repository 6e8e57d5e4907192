/**
 * The door's field checks (src/api/fields.ts): every string field, whatever its schema and
 * whichever command it belongs to (player fields now, admin fields later), refuses text that is not
 * well-formed Unicode with that field's own error, before its normaliser runs.
 */
import { describe, expect, it } from 'vitest';
import { field, Invalid, isWellFormed, trimmedString } from '../src/api/fields.js';

describe('well-formed text in every field', () => {
  it('tells a lone surrogate from a surrogate pair', () => {
    expect(['', 'abc', 'Zoë', '漢字', '🎮', 'a\ud83c\udfaeb'].every(isWellFormed)).toBe(true);
    expect(['\ud800', '\udfff', 'a\ud83c', '\udc00\ud800', 'x\ud83c\udfae\ud800'].some(isWellFormed)).toBe(false);
  });

  it('refuses a lone surrogate with the field message for plain, optional and anyOf string schemas', () => {
    const fields = [
      field('title', { type: 'string' }, 'title is required', trimmedString(200)),
      field('message', { type: 'string', maxLength: 500 }, 'message must be text', (v) => v as string, 'optional'),
      field('link', { anyOf: [{ type: 'string' }, { type: 'null' }] }, 'link must be text or null', (v) => v as string | null),
    ];
    for (const f of fields) {
      const name = ['title', 'message', 'link'][fields.indexOf(f)];
      const refused = f.read({ [name]: 'ok \ud800' });
      expect(refused).toBeInstanceOf(Invalid);
      expect((refused as Invalid).message).toMatch(new RegExp(`^${name}`));
      expect(f.read({ [name]: 'ok 🎮' })).not.toBeInstanceOf(Invalid);
    }
  });
});
