import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidEnvNameError, buildRemoteCommand, exportEnv, killGroupOnTerm, shJoin, shQuote } from './quote.js';

/** Running, not gone and not a zombie (orphans may stay unreaped here, so `kill -0` is not enough). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Runs a string through a real /bin/sh the way sshd does (`sh -c <string>`). */
function sh(script: string): string {
  return execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
}

const hostile = [
  '',
  ' ',
  "it's",
  "''",
  '"double" \\back\\slash',
  '$HOME `id` $(id) ${PATH}',
  'a;b&&c||d|e>f<g',
  '*?[abc]~',
  'line1\nline2\n',
  '\t tab and -dash',
  '-n',
  'ünïcødé ☃',
  "'; rm -rf / #",
];

describe('shQuote', () => {
  it.each(hostile)('round-trips %j through /bin/sh unchanged', (value) => {
    expect(sh(`printf '%s' ${shQuote(value)}`)).toBe(value);
  });

  it('leaves plain words readable', () => {
    expect(shQuote('/usr/bin/env')).toBe('/usr/bin/env');
    expect(shQuote('a b')).toBe("'a b'");
    expect(shQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('quotes a word that would be an assignment in command position', () => {
    expect(shQuote('A=b')).toBe("'A=b'");
    expect(sh(`${shJoin(['printf', '%s'])} ${shQuote('A=b')}`)).toBe('A=b');
  });

  it('property: any NUL-free string round-trips as an argument and as a command word, under sh, dash, busybox sh and bash', () => {
    const piece = fc.oneof(
      fc.constantFrom("'", '"', '`', '\\', '$', '$(', ')', '${', '}', ';', '&&', '|', '&', '\n', '\r', '\t', ' ', '%', '-', '*', '?', '[a]', '~', '#', '!', '=', 'é', '😀'),
      fc.string({ unit: 'grapheme', maxLength: 6 }),
    );
    const value = fc.array(piece, { maxLength: 16 }).map((a) => a.join('').replace(/\0/g, ''));
    const shells = [['sh'], ['dash'], ['busybox', 'sh'], ['bash']];
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 5 }), (vals) => {
        // As arguments, and after an assignment prefix (a quoted command word stays the command).
        const text = `${shJoin(['printf', '%s\\0', ...vals])}\nA=1 ${shQuote('printf')} '%s' ${shQuote(vals[0]!)}`;
        for (const s of shells) {
          const out = execFileSync(s[0]!, [...s.slice(1), '-s'], { input: text, encoding: 'utf8' });
          const parts = out.split('\0');
          expect(parts.slice(0, vals.length)).toEqual(vals);
          expect(parts[vals.length]).toBe(vals[0]);
        }
      }),
      { seed: 20261201, numRuns: 50 },
    );
  }, 180_000); // 200 shell processes: a hang guard sized for a loaded 2-core host, not a bound

  it('keeps argument boundaries in shJoin', () => {
    const out = sh(`printf '<%s>' ${shJoin(['a b', '', "c'd", '$x'])}`);
    expect(out).toBe("<a b><><c'd><$x>");
  });
});

describe('exportEnv / buildRemoteCommand', () => {
  it('exports hostile values verbatim', () => {
    const env = Object.fromEntries(hostile.map((v, i) => [`V${i}`, v]));
    const script = buildRemoteCommand(hostile.map((_, i) => `printf '%s\\0' "$V${i}"`).join('; '), { env, username: 'u' });
    expect(sh(script).split('\0').slice(0, -1)).toEqual(hostile);
  });

  it('rejects names that cannot be exported', () => {
    expect(() => exportEnv({ 'A B': 'x' })).toThrow(InvalidEnvNameError);
    expect(() => exportEnv({ '1A': 'x' })).toThrow(InvalidEnvNameError);
    expect(() => exportEnv({ 'A;id': 'x' })).toThrow(/not valid/);
    expect(exportEnv({})).toBe('');
  });

  it('wraps in sudo only for non-root users, keeping env, stdin and exit status', () => {
    expect(buildRemoteCommand('id -u', { sudo: true, username: 'root' })).toBe('id -u');
    const cmd = buildRemoteCommand(`read line; printf '%s|%s' "$A" "$line"; exit 7`, {
      sudo: true,
      username: 'deploy',
      env: { A: "x'y $z" },
    });
    expect(cmd.startsWith('sudo -n sh -c ')).toBe(true);
    // Run it here, through the real sudo (the tests run as root).
    const r = spawnSync('/bin/sh', ['-c', cmd], { input: 'from stdin\n', encoding: 'utf8' });
    expect(r.stdout).toBe("x'y $z|from stdin");
    expect(r.status).toBe(7);
  });

  it('ends the whole process group of a wrapped script on SIGTERM', async () => {
    const script = killGroupOnTerm('sleep 30 & echo $!; wait');
    // Its own session, as sshd gives each command: `kill 0` must not reach the test runner.
    const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    const bgPid = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    await new Promise((r) => setTimeout(r, 200));
    try {
      expect(alive(bgPid)).toBe(false);
    } finally {
      if (alive(bgPid)) process.kill(bgPid, 'SIGKILL');
    }
  });
});
