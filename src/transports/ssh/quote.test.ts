import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { InvalidEnvNameError, buildRemoteCommand, exportEnv, shJoin, shQuote } from './quote.js';

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

  it('wraps in sudo only for non-root users, with the exports inside', () => {
    expect(buildRemoteCommand('id -u', { sudo: true, username: 'root' })).toBe('id -u');
    const cmd = buildRemoteCommand("echo 'hi'", { sudo: true, username: 'deploy', env: { A: "x'y" } });
    expect(cmd.startsWith('sudo -n sh -c ')).toBe(true);
    // Unwrap one level the way the remote shell would, and run the inner script.
    const inner = sh(`printf '%s' ${cmd.slice('sudo -n sh -c '.length)}`);
    expect(inner).toBe(`export A='x'\\''y'\necho 'hi'`);
    expect(sh(`${inner}; printf '%s' "$A"`)).toBe("hi\nx'y");
  });
});
