import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { psychScalar, psychTags } from './psych-scalars.js';

/** Ruby's own answers: scripts/psych-oracle.rb. */
const ORACLE = JSON.parse(
  readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/config/psych-scalars.json'), 'utf8'),
) as { cases: { scalar: string; type?: string; value?: unknown; error?: string }[] };

const viaYaml = (s: string) => (parseDocument(`k: ${s}`, { customTags: psychTags }).toJS() as { k: unknown }).k;

describe('plain scalars as Psych reads them', () => {
  it.each(ORACLE.cases.map((c) => [c.scalar, c] as const))('%s', (s, c) => {
    for (const v of [psychScalar(s), viaYaml(s)]) {
      if (c.error !== undefined) {
        // Kitchen cannot load a date; hallmark keeps the text.
        expect(v).toBe(s);
      } else if (c.type === 'float' && typeof c.value === 'string') {
        expect(String(v)).toBe(c.value);
      } else {
        expect(v).toEqual(c.value);
        expect(typeof v).toBe({ null: 'object', bool: 'boolean', int: 'number', float: 'number', str: 'string', Symbol: 'string' }[c.type!]);
      }
    }
  });

  it('leaves quoted and block scalars and explicit tags alone', () => {
    const doc = parseDocument(`a: "yes"\nb: 'on'\nc: |\n  0644\nd: !!str off\ne: [yes, "no", 0x10]\nyes: key\n`, { customTags: psychTags }).toJS() as Record<string, unknown>;
    expect(doc).toEqual({ a: 'yes', b: 'on', c: '0644\n', d: 'off', e: [true, 'no', 16], true: 'key' });
  });
});
