import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { parseFraming } from './framing.js';
import { PRELUDE } from './script.js';
import { shq } from './shell.js';

function run(shell: string[], body: string): string {
  return execFileSync(shell[0]!, [...shell.slice(1), '-s'], { input: `${PRELUDE}\n${body}\nprintf '@@DONE\\n'\n`, encoding: 'utf8' });
}

describe('framing: arbitrary output survives the round trip', () => {
  const nasty = '@@E\n@@DONE\nline with \u0000 nul? no: tabs\tand CR\r\n"quotes" \'single\' $HOME `x` \\ backslash\n\u00e9\u4e2d\n\n';
  test.each([['sh'], ['dash'], ['busybox', 'sh']])('under %s', (...shell) => {
    const out = run(shell, `hm_str r0 s ${shq(nasty)}\nhm_cap r1 c ${shq('printf "%s" "@@V r1 c.rc 0"; echo err >&2; exit 3')}\nhm_val r2 n 42`);
    const p = parseFraming(out);
    expect(p.done).toBe(true);
    expect(p.noise).toEqual([]);
    expect(p.fields.get('r0')!.get('s')).toBe(nasty.replace('\u0000', '')); // a shell string cannot hold NUL
    expect(p.fields.get('r1')!.get('c.rc')).toBe('3');
    expect(p.fields.get('r1')!.get('c.out')).toBe('@@V r1 c.rc 0');
    expect(p.fields.get('r1')!.get('c.err')).toBe('err\n');
    expect(p.fields.get('r2')!.get('n')).toBe('42');
    expect(p.fields.get('_')!.get('pkg')).toBe('dpkg');
  });

  test('the hex fallback (no base64) decodes the same', () => {
    const out = run(['sh'], `HM_ENC=hex\nhm_str r0 s ${shq('a\nb\u00e9')}`);
    expect(out).toContain('@@F r0 s hex');
    expect(parseFraming(out).fields.get('r0')!.get('s')).toBe('a\nb\u00e9');
  });

  test('a cut-off script is detected', () => {
    const p = parseFraming('@@V _ pkg dpkg\n@@F r0 s b64\nYWJj\n');
    expect(p.done).toBe(false);
    expect(p.noise).toEqual(['unterminated field r0 s']);
  });
});
