import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { code, joinSh, sh, unsendable, ValueTable, word, type Sh } from './shell.js';

const SHELLS = [['sh'], ['dash'], ['busybox', 'sh'], ['bash']];

/** Runs shell text under each shell; their stdouts. */
function underEach(text: string): string[] {
  return SHELLS.map((s) => execFileSync(s[0]!, [...s.slice(1), '-s'], { input: text, encoding: 'utf8', maxBuffer: 64 << 20 }));
}

describe('sh: probe code can only take values as whole words', () => {
  const t = new ValueTable();
  const v = t.bind('a b');

  test('fragments, numbers and lists of fragments interpolate', () => {
    expect(sh`stat -- ${v} ${[v, v]} ${42} ${0.5}`.text).toBe('stat -- "$HM_V0" "$HM_V0" "$HM_V0" 42 0.5');
    expect(joinSh([sh`a`, sh``, sh`b`]).text).toBe('a\nb');
    expect(code`x=$\{y-} '\n'`).toBe("x=${y-} '\\n'");
  });

  test.each([
    ['inside single quotes', () => sh`echo '${v}'`],
    ['inside double quotes', () => sh`echo "x${v}"`],
    ['inside arithmetic', () => sh`echo $((1 + ${v}))`],
    ['eval', () => sh`eval ${v}`],
    ['a string', () => sh`echo ${'$(id)' as unknown as Sh}`],
    ['a forged fragment', () => sh`echo ${{ text: '$(id)' } as Sh}`],
    ['a number in exponent form', () => sh`sleep ${1e-7}`],
    ['NaN', () => sh`sleep ${Number.NaN}`],
  ])('refuses an interpolation %s', (_what, f) => {
    expect(f).toThrow(/sh: /);
  });

  test('quotes opened and closed before an interpolation are fine', () => {
    expect(sh`printf '%s\n' "$x" ${v}`.text).toBe(`printf '%s\\n' "$x" "$HM_V0"`);
    expect(sh`case "$HM_PKG" in apk) x ${v} ;; esac`.text).toContain('apk) x "$HM_V0"');
    expect(sh`echo $((1 + 2)) ${v}`.text).toBe('echo $((1 + 2)) "$HM_V0"');
  });

  test('words are plain', () => {
    expect(word('r12').text).toBe('r12');
    expect(() => word('r1; id')).toThrow();
  });

  test('values with NUL or a lone surrogate cannot be bound', () => {
    expect(unsendable('a\0b')).toMatch(/NUL/);
    expect(unsendable('a\ud800b')).toMatch(/surrogate/);
    expect(unsendable('😀')).toBeUndefined();
    expect(() => new ValueTable().bind('x\0')).toThrow(/NUL/);
  });

  test('equal values share one variable', () => {
    const table = new ValueTable();
    expect(table.bind('x').text).toBe(table.bind('x').text);
    expect(table.bind('y').text).toBe('"$HM_V1"');
    expect(table.section()).toBe('HM_V0=x\nHM_V1=y');
  });
});

/** Strings built to hurt a shell: quotes, expansions, separators, line ends, globs, options, unicode. */
const hostileString = fc
  .array(
    fc.oneof(
      fc.constantFrom("'", '"', '`', '\\', '$', '$(', ')', '${', '}', ';', '&&', '||', '|', '&', '\n', '\r', '\r\n', '\t', ' ', '%s', '%', '-', '--', '*', '?', '[a]', '~', '#', '!', '<', '>', '=', '\\n', "'\\''", 'é', '中', '😀', '\u2028', '\u00a0'),
      fc.string({ unit: 'binary', maxLength: 8 }).filter((s) => unsendable(s) === undefined),
    ),
    { maxLength: 24 },
  )
  .map((a) => a.join(''));

describe('the data section carries any value exactly, under every shell', () => {
  test('property: HM_V<n>=... then printf "%s" gives back the value, byte for byte', () => {
    fc.assert(
      fc.property(fc.array(hostileString, { minLength: 1, maxLength: 6 }), (vals) => {
        const t = new ValueTable();
        const refs = vals.map((x) => t.bind(x));
        const text = `${t.section()}\n${sh`printf '%s\0' ${refs}`.text}`;
        for (const out of underEach(text)) expect(out.split('\0').slice(0, -1)).toEqual(vals);
      }),
      { seed: 20261201, numRuns: 60 },
    );
    // 240 shell processes: a loaded 2-core host needs more than the default 30 s (a guard against a hang, not a bound).
  }, 180_000);

  test('a very long value', () => {
    const long = `${"'$(x)`\n\\".repeat(20_000)}é`;
    const t = new ValueTable();
    const r = t.bind(long);
    for (const out of underEach(`${t.section()}\n${sh`printf '%s' ${r}`.text}`)) expect(out).toBe(long);
  });
});
