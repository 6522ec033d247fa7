import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { shQuote } from '../../transports/ssh/quote.js';
import { parseFraming } from './framing.js';
import { COMMAND_PRELUDE, DETECT, PRELUDE, SETUP } from './script.js';

/** Runs the script's helpers with `body` under `shell`; returns stdout. */
function run(shell: string[], body: string): string {
  return execFileSync(shell[0]!, [...shell.slice(1), '-s'], { input: [SETUP, PRELUDE, COMMAND_PRELUDE, DETECT, body, 'hm_finish', ''].join('\n'), encoding: 'utf8' });
}

const SHELLS = [['sh'], ['dash'], ['busybox', 'sh'], ['bash']];

// Looks like framing, no final newline, CR, quotes, invalid-looking escapes, UTF-8.
const nasty = '@@V r0 exists 1\n@@F r0 x 1\n@@S\n@@X b64\n@@DONE 0\nline with tabs\tand CR\r\n"quotes" \'single\' $HOME `x` \\ backslash\n\u00e9\u4e2d\n\nno newline at the end';

describe('framing: arbitrary output survives the round trip', () => {
  test.each(SHELLS)('under %s', (...shell) => {
    const body = [
      `hm_begin r0; hm_str r0 s ${shQuote(nasty)}; hm_end r0`,
      `hm_begin r1; hm_run r1 c sh -c ${shQuote('printf "%s" "@@V r1 c.rc 0"; echo err >&2; exit 3')}; hm_end r1`,
      `hm_begin r2; hm_val r2 n 42; hm_end r2`,
      `hm_begin r3; hm_run r3 q printf '%s' ${shQuote(nasty)}; hm_end r3`,
      `hm_begin r4; hm_str r4 empty ''; hm_run r4 silent true; hm_end r4`,
      `printf 'a\\nb' >"$HM_T/x"; hm_read _ l "$HM_T/x"`,
      `hm_begin r5; hm_runin r5 sum "$HM_T/x" cat; hm_runin r5 missing "$HM_T/nope" cat; hm_end r5`,
      `hm_begin r6; hm_found r6 f /etc/passwd /nonexistent "$HM_T"/[0-9]*; hm_found r6 none /nonexistent; hm_end r6`,
    ].join('\n');
    const p = parseFraming(run(shell, body));
    expect(p.tampered).toBeUndefined();
    expect(p.done).toBe(true);
    const f = (id: string, k: string) => p.fields.get(id)?.get(k);
    expect(f('r0', 's')).toBe(nasty);
    expect([f('r1', 'c.rc'), f('r1', 'c.out'), f('r1', 'c.err')]).toEqual(['3', '@@V r1 c.rc 0', 'err\n']);
    expect(f('r2', 'n')).toBe('42');
    expect([f('r3', 'q.out'), f('r3', 'q.rc')]).toEqual([nasty, '0']);
    expect([f('r4', 'empty'), f('r4', 'silent.out'), f('r4', 'silent.err'), f('r4', 'silent.rc')]).toEqual(['', '', '', '0']);
    expect(f('_', 'l')).toBe('a\nb\n'); // read line by line: the last line gets its newline
    expect([f('r5', 'sum.out'), f('r5', 'sum.rc')]).toEqual(['a\nb', '0']);
    expect(f('r5', 'missing.rc')).not.toBe('0');
    expect(f('r5', 'missing.err')).toMatch(/nope/);
    expect(f('r6', 'f')!.split('\n')[0]).toBe('/etc/passwd');
    expect([f('r6', 'f.rc'), f('r6', 'none'), f('r6', 'none.rc')]).toEqual(['0', '', '1']);
    expect(f('_', 'pkg')).toMatch(/^(dpkg|rpm|apk|pacman|none)$/);
  });

  test('binary output arrives as the bytes it was (hex when the target has no base64)', () => {
    const bytes = Buffer.from([0, 1, 0xff, 0xfe, 10, 13, 0x80, 0x41]);
    const body = `hm_begin r0; hm_run r0 b printf '\\000\\001\\377\\376\\n\\r\\200A'; hm_end r0`;
    const noBase64 = `hm_has() { [ "$1" != base64 ] && command -v "$1" >/dev/null 2>&1; }`;
    for (const [pre, enc] of [['', '@@X b64'], [noBase64, '@@X hex']] as const) {
      const out = run(['dash'], `${pre}\n${body}`);
      expect(out).toContain(enc);
      const p = parseFraming(out);
      expect(p.done).toBe(true);
      expect(p.fields.get('r0')!.get('b.out')).toBe(bytes.toString('utf8'));
    }
  });

  test('/proc tables read with builtins are what cat reads', () => {
    for (const shell of [['dash'], ['busybox', 'sh']]) {
      const p = parseFraming(run(shell, 'hm_read _ t /proc/net/tcp; hm_read _ m /proc/self/mounts'));
      const t = p.fields.get('_')!.get('t')!;
      expect(t.split('\n')[0]).toMatch(/^\s*sl\s+local_address/);
      expect(t.split('\n').length).toBeGreaterThan(2);
      expect(p.fields.get('_')!.get('m')).toContain(' / ');
    }
  });
});

describe('framing: anything the script never writes makes the run untrustworthy', () => {
  const good = (body: string, blob: string, n: number, sizes: string) => `@@V _ pkg dpkg\n${body}@@S\n${sizes}@@X b64\n${Buffer.from(blob).toString('base64')}\n@@DONE ${n}\n`;
  const ok = good('@@B r0 1.00\n@@V r0 exists 1\n@@F r0 out 1\n@@D r0 1.50\n', 'hello', 1, '5 1\n');

  test('a well-formed run', () => {
    const p = parseFraming(ok);
    expect(p.tampered).toBeUndefined();
    expect(p.done).toBe(true);
    expect(p.fields.get('r0')).toEqual(new Map([['exists', '1'], ['out', 'hello']]));
    expect([p.begin.get('r0'), p.end.get('r0')]).toEqual([100, 150]);
  });

  test.each([
    ['a record written twice', good('@@B r0 1\n@@V r0 exists 0\n@@V r0 exists 1\n@@D r0 1\n', '', 0, '')],
    ["a record of one probe inside another's section", good('@@B r1 1\n@@V r0 exists 1\n@@D r1 1\n@@B r0 1\n@@V r0 exists 0\n@@D r0 1\n', '', 0, '')],
    ['a probe section twice', good('@@B r0 1\n@@V r0 exists 1\n@@D r0 1\n@@B r0 1\n@@D r0 1\n', '', 0, '')],
    ['a fact inside a probe', good('@@B r0 1\n@@V _ init systemd\n@@D r0 1\n', '', 0, '')],
    ['a line that is no record', good('@@B r0 1\nhello\n@@D r0 1\n', '', 0, '')],
    ['captures out of order', good('@@B r0 1\n@@F r0 out 2\n@@D r0 1\n', 'x', 1, '1 2\n')],
    ['sizes that do not add up', good('@@B r0 1\n@@F r0 out 1\n@@D r0 1\n', 'hello!', 1, '5 1\n')],
    ['a size for a capture never announced', good('@@B r0 1\n@@F r0 out 1\n@@D r0 1\n', 'hello', 1, '5 1\n0 2\n')],
    ['output after the end', `${ok}@@V r0 exists 1\n`],
    ['a second end', ok.replace('@@DONE 1\n', '@@DONE 1\n@@DONE 1\n')],
    ['an end with another count', ok.replace('@@DONE 1', '@@DONE 2')],
    ['an unknown encoding', ok.replace('@@X b64', '@@X rot13')],
    ['an unfinished probe', good('@@B r0 1\n', '', 0, '')],
  ])('%s', (_what, text) => {
    const p = parseFraming(text);
    expect(p.tampered).toBeTruthy();
    expect(p.done).toBe(false);
  });

  test('a cut-off script is detected, and names the probe that was running', () => {
    const p = parseFraming('@@V _ pkg dpkg\n@@B r0 1\n@@V r0 exists 1\n@@D r0 2\n@@B r1 3\n@@F r1 out 1\n');
    expect(p.done).toBe(false);
    expect(p.tampered).toBeUndefined();
    expect(p.running).toBe('r1');
    expect(p.fields.get('r0')!.get('exists')).toBe('1');
  });
});

describe('commands', () => {
  const alive = (pattern: string) => {
    try {
      return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim();
    } catch {
      return ''; // pgrep exits 1: no such process
    }
  };

  test.each(SHELLS)('under %s: the timeout kills the whole command, and nothing outlives the script', (...shell) => {
    // Unique to this run: other worktrees may run the same test at the same time, and pgrep sees their sleeps too.
    const tag = `${shell.length}${shell[0]!.length}${process.pid}`;
    const out = run(
      shell,
      [
        `hm_begin r0; hm_cmd r0 41.7${tag} true; hm_end r0`,
        `hm_begin r1; hm_cmd r1 0.3 'sleep 37.1${tag} & sleep 37.2${tag}; echo never'; hm_end r1`,
        `hm_begin r2; hm_cmd r2 5 'echo out; echo err >&2; exit 4'; hm_end r2`,
        `hm_begin r3; hm_cmd r3 5 'echo "[$#:$1:$0]"; exit 137'; hm_end r3`,
      ].join('\n'),
    );
    const p = parseFraming(out);
    expect(p.done).toBe(true);
    // Not a speed bound: each command's own clock (/proc/uptime, start to end) shows that it did not
    // wait out a sleep it should have killed (r0: its watchdog's 41.7 s; r1: the command's 37 s).
    const took = (id: string) => Number(p.fields.get(id)!.get('end')) - Number(p.fields.get(id)!.get('start'));
    expect(took('r0')).toBeLessThan(41.7);
    expect(took('r1')).toBeLessThan(37.1);
    const f = (id: string) => Object.fromEntries([...p.fields.get(id)!].filter(([k]) => k !== 'start' && k !== 'end'));
    expect(f('r0')).toEqual({ out: '', err: '', rc: '0' });
    expect(f('r1')).toMatchObject({ rc: '137', out: '', timedout: '1' });
    expect(f('r2')).toEqual({ out: 'out\n', err: 'err\n', rc: '4' });
    expect(f('r3')).toEqual({ out: '[0::sh]\n', err: '', rc: '137' }); // as under sh -c; its own 137 is no timeout
    expect(alive(`sleep 41.7${tag}`)).toBe(''); // the watchdog of a quick command
    expect(alive(`sleep 37.1${tag}`)).toBe(''); // the background child of a command that timed out
    expect(alive(`sleep 37.2${tag}`)).toBe('');
  });

  test.each(SHELLS)("under %s: a command gets goss's environment: sh -c, the target's PATH, locale, umask and signals, nothing of the script", (...shell) => {
    const env = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: '/root', GOSS_OUTER: 'kept' };
    const cmd = [
      'echo "path=$PATH"',
      'echo "lc_all=${LC_ALL-unset}"',
      'echo "umask=$(umask)"',
      'echo "hm_vars=$(set | grep -c "^HM_")"',
      'echo "hm_funcs=$(command -v hm_cmd hm_run | wc -l)"',
      'echo "outer=$GOSS_OUTER"',
      'grep -E "^SigIgn" /proc/self/status',
      'nosuch-command-xyz',
    ].join('; ');
    const out = execFileSync('sh', ['-c', `umask 027; exec ${shell.join(' ')} -s`], {
      input: [SETUP, PRELUDE, COMMAND_PRELUDE, DETECT, `hm_begin r0; hm_cmd r0 5 ${shQuote(cmd)}; hm_end r0`, 'hm_finish', ''].join('\n'),
      encoding: 'utf8',
      env,
    });
    const p = parseFraming(out);
    const stdout = p.fields.get('r0')!.get('out')!;
    expect(stdout).toContain('path=/usr/bin:/bin\n');
    expect(stdout).toContain('lc_all=unset\n');
    expect(stdout).toContain('umask=0027\n');
    expect(stdout).toContain('hm_vars=0\n');
    expect(stdout).toContain('hm_funcs=0\n');
    expect(stdout).toContain('outer=kept\n');
    // SIGINT and SIGQUIT are not ignored, as they would be in a background job.
    expect(Number.parseInt(/SigIgn:\s*([0-9a-f]+)/.exec(stdout)![1]!, 16) & 0b110).toBe(0);
    // sh -c's own words for a missing command, as goss reports them (no "eval:").
    expect(p.fields.get('r0')!.get('err')).toMatch(/^sh: (1: )?nosuch-command-xyz: (command )?not found\n$/);
  });
});
