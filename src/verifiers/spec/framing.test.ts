import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { parseFraming } from './framing.js';
import { COMMAND_PRELUDE, PRELUDE } from './script.js';
import { shq } from './shell.js';

const B = 'b0undary5eed';

function run(shell: string[], body: string): string {
  return execFileSync(shell[0]!, [...shell.slice(1), '-s'], { input: `HM_B=${B}\n${PRELUDE}\n${body}\nprintf '@@DONE\\n'\n`, encoding: 'utf8' });
}

describe('framing: arbitrary output survives the round trip', () => {
  // Looks like framing, an end mark without the boundary, no final newline, CR, quotes, UTF-8.
  const nasty = '@@E\n@@E\n@@DONE\n@@R r9 x\nline with tabs\tand CR\r\n"quotes" \'single\' $HOME `x` \\ backslash\n\u00e9\u4e2d\n\nno newline at the end';
  test.each([['sh'], ['dash'], ['busybox', 'sh']])('under %s', (...shell) => {
    const body = [
      `hm_str r0 s ${shq(nasty)}`,
      `hm_cap r1 c ${shq('printf "%s" "@@V r1 c.rc 0"; echo err >&2; exit 3')}`,
      `hm_val r2 n 42`,
      `hm_run r3 q printf '%s' ${shq(nasty)}`,
      `hm_str r4 empty ''`,
      `hm_cap r5 silent true`,
      `printf 'a\\nb' >"$HM_T/x"; hm_lines r6 l "$HM_T/x"; hm_file r6 f "$HM_T/x"`,
    ].join('\n');
    const p = parseFraming(run(shell, body), B);
    expect(p.done).toBe(true);
    expect(p.noise).toEqual([]);
    expect(p.fields.get('r0')!.get('s')).toBe(nasty);
    expect(p.fields.get('r1')!.get('c.rc')).toBe('3');
    expect(p.fields.get('r1')!.get('c.out')).toBe('@@V r1 c.rc 0');
    expect(p.fields.get('r1')!.get('c.err')).toBe('err\n');
    expect(p.fields.get('r2')!.get('n')).toBe('42');
    expect(p.fields.get('r3')!.get('q.out')).toBe(nasty);
    expect(p.fields.get('r3')!.get('q.rc')).toBe('0');
    expect(p.fields.get('r4')!.get('empty')).toBe('');
    expect(p.fields.get('r5')!.get('silent.out')).toBe('');
    expect(p.fields.get('r5')!.get('silent.err')).toBe('');
    expect(p.fields.get('r6')!.get('l')).toBe('a\nb\n'); // read line by line: the last line gets its newline
    expect(p.fields.get('r6')!.get('f')).toBe('a\nb');
    expect(p.fields.get('_')!.get('pkg')).toMatch(/^(dpkg|rpm|apk|pacman|none)$/);
  });

  test('/proc tables read with builtins are what cat reads', () => {
    for (const shell of [['dash'], ['busybox', 'sh']]) {
      const p = parseFraming(run(shell, 'hm_lines _ t /proc/net/tcp; hm_lines _ m /proc/self/mounts'), B);
      const t = p.fields.get('_')!.get('t')!;
      expect(t.split('\n')[0]).toMatch(/^\s*sl\s+local_address/);
      expect(t.split('\n').length).toBeGreaterThan(2);
      expect(p.fields.get('_')!.get('m')).toContain(' / ');
    }
  });

  test.each([['dash'], ['busybox', 'sh'], ['bash']])('commands under %s: the timeout kills the whole command, and nothing outlives the script', (...shell) => {
    const alive = (pattern: string) => {
      try {
        return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim();
      } catch {
        return ''; // pgrep exits 1: no such process
      }
    };
    const t = Date.now();
    const out = run(shell, `${COMMAND_PRELUDE}\nhm_cmd r0 41.7${shell.length} true\nhm_cmd r1 0.3 'sleep 37.1${shell.length}; echo never'\nhm_cmd r2 5 'echo out; echo err >&2; exit 4'\nhm_cmd r3 5 'echo "[$#:$1]"'`);
    expect(Date.now() - t).toBeLessThan(4000);
    const p = parseFraming(out, B);
    expect(p.fields.get('r0')!.get('rc')).toBe('0');
    expect(p.fields.get('r1')!.get('rc')).toBe('137');
    expect(p.fields.get('r1')!.get('out')).toBe('');
    expect([...p.fields.get('r2')!].filter(([k]) => k !== 'start' && k !== 'end')).toEqual([['rc', '4'], ['out', 'out\n'], ['err', 'err\n']]);
    expect(p.fields.get('r3')!.get('out')).toBe('[0:]\n'); // no positional parameters, as under sh -c
    expect(alive(`sleep 41.7${shell.length}`)).toBe(''); // the watchdog of a quick command
    expect(alive(`sleep 37.1${shell.length}`)).toBe(''); // the child of a command that timed out
  });

  test('a cut-off script is detected', () => {
    const p = parseFraming(`@@V _ pkg dpkg\n@@R r0 s\nabc\n@@E${B}\n@@R r1 s\nab`, B);
    expect(p.done).toBe(false);
    expect(p.fields.get('r0')!.get('s')).toBe('abc');
    expect(p.noise).toEqual(['unterminated field r1 s']);
  });

  test('an end mark with another boundary is data', () => {
    const p = parseFraming(`@@R r0 s\nx\n@@Eotherrun\ny\n@@E${B}\n@@DONE\n`, B);
    expect(p.fields.get('r0')!.get('s')).toBe('x\n@@Eotherrun\ny');
    expect(p.done).toBe(true);
  });
});
