import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError } from '../../kernel/errors.js';
import { Float64 } from './go-values.js';
import { loadSpecFiles, parseSpecText } from './load.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-spec-load-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function problems(text: string, vars?: Record<string, unknown>) {
  try {
    await parseSpecText(text, path.join(dir, 'goss.yml'), { vars });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loading gossfiles', () => {
  test('unknown resource type: file and line, with a suggestion', async () => {
    const p = await problems('file:\n  /etc/passwd:\n    exists: true\npackges:\n  nginx:\n    installed: true\n');
    expect(p).toMatchObject([{ file: path.join(dir, 'goss.yml'), line: 4, message: expect.stringContaining('unknown resource type "packges" (did you mean "package"?)') }]);
  });

  test('unknown attribute: file and line', async () => {
    const p = await problems('file:\n  /etc/passwd:\n    exists: true\n    mod: "0644"\n');
    expect(p).toMatchObject([{ line: 4, path: 'file./etc/passwd.mod', message: expect.stringContaining('unknown attribute "mod" for file (did you mean "mode"?)') }]);
  });

  test('unknown matcher: file and line', async () => {
    const p = await problems('kernel-param:\n  kernel.ostype:\n    value:\n      have-prefx: Lin\n');
    expect(p).toMatchObject([{ line: 3, message: expect.stringContaining('unknown matcher "have-prefx"') }]);
  });

  test('goss required attributes, and resources with nothing to check', async () => {
    expect(await problems('command:\n  true: {stdout: [x]}\n')).toMatchObject([{ line: 2, message: expect.stringContaining('exit-status is required') }]);
    expect(await problems('service:\n  sshd: {}\n')).toMatchObject([{ message: expect.stringContaining('nothing to check') }]);
  });

  test("a resource without its type's first attribute is refused: goss fails it (Missing required attribute), whatever the others say", async () => {
    const p = await problems(
      'file:\n  /etc/passwd: {mode: "0644"}\npackage:\n  bash: {versions: [5.2]}\nport:\n  tcp:22: {ip: [0.0.0.0]}\nuser:\n  root: {uid: 0}\ngroup:\n  root: {gid: 0}\nmount:\n  /: {filesystem: ext4}\ninterface:\n  lo: {mtu: 65536}\nhttp:\n  http://localhost/: {body: [x]}\ndns:\n  localhost: {addrs: [127.0.0.1]}\n',
    );
    expect(p.map((x) => [x.line, x.message.split(':')[0]])).toEqual([
      [2, 'exists is required for file'],
      [4, 'installed is required for package'],
      [6, 'listening is required for port'],
      [8, 'exists is required for user'],
      [10, 'exists is required for group'],
      [12, 'exists is required for mount'],
      [14, 'exists is required for interface'],
      [16, 'status is required for http'],
      [18, 'resolvable is required for dns'],
    ]);
    // goss's old spelling counts; a skipped resource is not looked at (goss: skip results, no failure).
    await parseSpecText('dns:\n  localhost: {resolveable: true, addrs: [127.0.0.1]}\nfile:\n  /x: {mode: "0644", skip: true}\ncommand:\n  y: {stdout: [a], skip: true}\n', path.join(dir, 'g.yml'));
  });

  test('every problem is reported, not just the first', async () => {
    const p = await problems('file:\n  /a: {exists: true, bogus: 1}\n  /b: {exists: true, mode: {nope: 1}}\nport:\n  "tcp:abc": {listening: true}\n');
    expect(p.map((x) => x.line)).toEqual([2, 3, 5]);
  });

  test('YAML errors and duplicate keys carry a line', async () => {
    expect(await problems('file:\n  /a: {exists: true}\n  /a: {exists: false}\n')).toMatchObject([{ line: 3, message: expect.stringContaining('invalid YAML') }]);
  });

  test('attributes, options, title, meta, skip, contains (old) and contents (new)', async () => {
    const rs = await parseSpecText(
      'file:\n  /etc/passwd:\n    title: pw\n    meta: {id: X-1, impact: 0.5}\n    mode: 0644\n    contains: [root]\n    contents: ["!nobody"]\n    skip: true\n    exists: true\ncommand:\n  hi:\n    exec: echo hi\n    exit-status: 0\n    timeout: 500\n',
      path.join(dir, 'g.yml'),
    );
    expect(rs[0]).toMatchObject({ type: 'file', key: '/etc/passwd', title: 'pw', meta: { id: 'X-1', impact: 0.5 }, skip: true });
    expect(rs[0]!.checks.map((c) => [c.name, c.value, c.pos.line])).toEqual([
      ['mode', 420, 5], // yaml.v3 (goss) reads an unquoted 0644 as the octal int 420: it never equals the mode "0644"
      ['contains', ['root'], 6],
      ['contents', ['!nobody'], 7],
      ['exists', true, 9],
    ]);
    expect(rs[1]).toMatchObject({ type: 'command', options: { exec: 'echo hi', timeout: 500 } });
  });

  test('gossfiles are Go templates: {{ .Vars.x }}, range, functions; an error names its line', async () => {
    const rs = await parseSpecText('user:\n  {{ .Vars.user.name }}:\n    exists: true\n    uid: {{.Vars.user.uid}}\n    groups: {{ toJson .Vars.groups }}\n    shell: {{ .Vars.groups }}\n', path.join(dir, 'g.yml'), {
      vars: { user: { name: 'app', uid: 1001 }, groups: ['a', 'b'] },
    });
    expect(rs[0]).toMatchObject({ key: 'app' });
    // A list prints as Go prints it ([a b]: in YAML a list of one string), as in goss; toJson gives the list.
    expect(rs[0]!.checks.map((c) => c.value)).toEqual([true, 1001, ['a', 'b'], ['a b']]);
    const ranged = await parseSpecText('file:\n{{- range .Vars.files}}\n  {{.}}: {exists: true}\n{{- end}}\n', path.join(dir, 'r.yml'), { vars: { files: ['/a', '/b'] } });
    expect(ranged.map((r) => r.key)).toEqual(['/a', '/b']);
    expect(await problems('file:\n  {{ .Vars.missing }}: {exists: true}\n')).toMatchObject([{ line: 2, message: expect.stringContaining('map has no entry for key "missing"') }]);
    expect(await problems('file:\n\n  {{ nosuch .Vars }}: {exists: true}\n')).toMatchObject([{ line: 3, message: expect.stringContaining('function "nosuch" not defined') }]);
  });

  test('gossfile includes, relative paths and globs, each file keeps its own resources', async () => {
    await writeFile(path.join(dir, 'main.yml'), 'gossfile:\n  parts/*.yml: {}\n  skipped.yml: {skip: true}\nfile:\n  /etc/passwd: {exists: true}\n');
    await import('node:fs/promises').then((fs) => fs.mkdir(path.join(dir, 'parts'), { recursive: true }));
    await writeFile(path.join(dir, 'parts', 'a.yml'), 'user:\n  root: {exists: true}\n');
    await writeFile(path.join(dir, 'parts', 'b.yml'), 'group:\n  root: {exists: true}\n');
    const rs = await loadSpecFiles([path.join(dir, 'main.yml')]);
    expect(rs.map((r) => `${r.type}:${r.key}`).sort()).toEqual(['file:/etc/passwd', 'group:root', 'user:root']);
  });

  test('YAML anchors, aliases and merge keys resolve everywhere (values, options, whole resources)', async () => {
    const rs = await parseSpecText(
      'x: &c "root:x:0"\np: &p /etc/passwd\nbase: &b {exists: true, owner: root}\n'.replace(/^x:.*\n|^p:.*\n|^base:.*\n/gm, '') +
        'file:\n  pw:\n    path: &p /etc/passwd\n    exists: true\n    contents: &c ["root:x:0"]\n  pw2:\n    path: *p\n    exists: true\n    contents: *c\n  /etc/group: &b {exists: true, owner: root}\n  /etc/hosts: {<<: *b, mode: "0644"}\n',
      path.join(dir, 'g.yml'),
    );
    const byKey = new Map(rs.map((r) => [r.key, r]));
    expect(byKey.get('pw2')!.options.path).toBe('/etc/passwd');
    expect(byKey.get('pw2')!.checks.find((c) => c.name === 'contents')!.value).toEqual(['root:x:0']);
    expect(byKey.get('/etc/hosts')!.checks.map((c) => [c.name, c.value])).toEqual([
      ['exists', true],
      ['owner', 'root'],
      ['mode', '0644'],
    ]);
  });

  test('string options take the YAML text: exec: true runs `true` (goss decodes it into a string)', async () => {
    const rs = await parseSpecText('command:\n  t:\n    exec: true\n    exit-status: 0\n', path.join(dir, 'g.yml'));
    expect(rs[0]!.options.exec).toBe('true');
  });

  test('the same resource in a later file replaces the earlier one; includes come after the file\'s own resources', async () => {
    const d = await mkdtemp(path.join(dir, 'later-'));
    await writeFile(path.join(d, 'a.yml'), 'file:\n  /etc/passwd: {exists: true, mode: "0600"}\n');
    await writeFile(path.join(d, 'b.yml'), 'file:\n  /etc/passwd: {exists: true, mode: "0644"}\n');
    const rs = await loadSpecFiles([path.join(d, 'a.yml'), path.join(d, 'b.yml')]);
    expect(rs).toHaveLength(1);
    expect(rs[0]!.checks.find((c) => c.name === 'mode')!.value).toBe('0644');
    await writeFile(path.join(d, 'main.yml'), 'gossfile:\n  b.yml: {}\nfile:\n  /etc/passwd: {exists: true, mode: "0400"}\n');
    const inc = await loadSpecFiles([path.join(d, 'main.yml')]);
    expect(inc[0]!.checks.find((c) => c.name === 'mode')!.value).toBe('0644'); // the include is merged after
  });

  test('an empty file, a glob that matches nothing and zero checks are errors', async () => {
    const d = await mkdtemp(path.join(dir, 'empty-'));
    await writeFile(path.join(d, 'empty.yml'), '# nothing here\n');
    await expect(loadSpecFiles([path.join(d, 'empty.yml')])).rejects.toThrow(/empty gossfile/);
    await writeFile(path.join(d, 'glob.yml'), 'gossfile:\n  nothing/*.yml: {}\nfile:\n  /etc/passwd: {exists: true}\n');
    await expect(loadSpecFiles([path.join(d, 'glob.yml')])).rejects.toThrow(/no matched files were found/);
    await writeFile(path.join(d, 'zero.yml'), 'file: {}\n');
    await expect(loadSpecFiles([path.join(d, 'zero.yml')])).rejects.toThrow(/no checks/);
    await writeFile(path.join(d, 'skipped.yml'), 'gossfile:\n  nothing/*.yml: {skip: true}\nfile:\n  /etc/passwd: {exists: true}\n');
    await expect(loadSpecFiles([path.join(d, 'skipped.yml')])).resolves.toHaveLength(1);
  });

  describe('numbers keep the Go type goss decodes them into', () => {
    /** The typed value of `matches:` for each YAML scalar text. */
    async function typed(...texts: string[]) {
      const yml = `matching:\n${texts.map((t, i) => `  m${i}: {content: x, matches: {equal: ${t}}}\n`).join('')}`;
      const rs = await parseSpecText(yml, path.join(dir, 'typed.yml'));
      return rs.map((r) => (r.checks[0]!.value as { equal: unknown }).equal);
    }

    test('YAML (yaml.v3): 3 is an int, 3.0 a float64; octal, hex, underscores and signs as yaml.v3 reads them', async () => {
      expect(await typed('3', '3.0', '0644', '0o17', '0x1F', '1_000', '+12', '-017', '08', '1e3', '.5', '"3"', "'3'", '!!float 3', '!!int "3"', '!!str 3', '1.2.3', '.inf', 'true', 'True')).toEqual([
        3,
        new Float64(3),
        420, // YAML 1.1 octal, kept by yaml.v3 (YAML 1.2 would say 644)
        15,
        31,
        1000,
        12,
        -15,
        new Float64(8), // not an octal int: yaml.v3 falls back to a float
        new Float64(1000),
        new Float64(0.5),
        '3',
        '3',
        new Float64(3),
        3,
        '3',
        '1.2.3',
        new Float64(Infinity),
        true,
        true,
      ]);
    });

    test('lists, maps and aliases inside a matcher, and a matching content, are typed too', async () => {
      const rs = await parseSpecText('matching:\n  m:\n    content: &c {n: 1.0, l: [1, 2.5]}\n    matches: {equal: *c}\n', path.join(dir, 'g.yml'));
      const want = { n: new Float64(1), l: [1, new Float64(2.5)] };
      expect(rs[0]!.options.content).toEqual(want);
      expect(rs[0]!.checks[0]!.value).toEqual({ equal: want });
    });

    test('integers beyond ±2^53 and unquoted timestamps are refused: hallmark cannot compare them as goss does', async () => {
      const p = await problems('matching:\n  a: {content: 1, matches: 9007199254740993}\n  b: {content: x, matches: {equal: 18446744073709551615}}\n  c: {content: 2024-01-02, matches: x}\n  d: {content: x, matches: "2024-01-02"}\n');
      expect(p.filter((x) => !x.message.includes('is required')).map((x) => [x.line, x.message])).toEqual([
        [2, expect.stringContaining('is the int 9007199254740993 to goss; hallmark compares integers only within ±2^53')],
        [3, expect.stringContaining('is the uint64 18446744073709551615 to goss')],
        [4, expect.stringContaining('the unquoted 2024-01-02 is a timestamp (time.Time) to goss')],
      ]);
    });

    test('a map with a key that is not a string (`1:`) is a map[interface{}]interface{} to goss: never a matcher, never equal to a string-keyed map', async () => {
      expect((await problems('matching:\n  m: {content: "[1]", matches: {gjson: {0: 1}}}\n'))[0]).toMatchObject({ line: 2, message: expect.stringContaining("invalid 'gjson' argument: expected map value, but received map[interface {}]interface {}") });
      const rs = await parseSpecText('matching:\n  a: {content: {1: x}, matches: {equal: {"1": x}}}\n  b: {content: {1: x}, matches: {equal: {1: x}}}\n', path.join(dir, 'g.yml'));
      expect(rs.map((r) => r.checks[0]!.matcher.match(r.options.content))).toEqual([false, true]);
    });

    test('a .json gossfile is read as JSON: every number a float64, in its includes too', async () => {
      const d = await mkdtemp(path.join(dir, 'json-'));
      await writeFile(path.join(d, 'goss.json'), JSON.stringify({ gossfile: { 'inc.yml': {} }, command: { 'exit 0': { 'exit-status': { equal: 0 } } } }));
      await writeFile(path.join(d, 'inc.yml'), JSON.stringify({ matching: { m: { content: 3, matches: [3, 'x'] } } }));
      const rs = await loadSpecFiles([path.join(d, 'goss.json')]);
      expect(rs.map((r) => [r.key, r.checks[0]!.value])).toEqual([
        ['exit 0', { equal: new Float64(0) }],
        ['m', [new Float64(3), 'x']],
      ]);
      expect(rs[1]!.options.content).toEqual(new Float64(3));
      // The same text in a YAML gossfile: ints.
      await writeFile(path.join(d, 'goss.yml'), 'gossfile:\n  inc.yml: {}\n');
      expect((await loadSpecFiles([path.join(d, 'goss.yml')]))[0]!.checks[0]!.value).toEqual([3, 'x']);
      // goss reads the includes of a .json gossfile as JSON: YAML there does not load.
      await writeFile(path.join(d, 'inc.yml'), 'matching:\n  m: {content: 3, matches: 3}\n');
      await expect(loadSpecFiles([path.join(d, 'goss.json')])).rejects.toThrow(/invalid JSON/);
      // encoding/json would keep the last of two equal keys; hallmark refuses them (README).
      await writeFile(path.join(d, 'dup.json'), '{"matching": {"m": {"content": 1, "matches": 1}, "m": {"content": 2, "matches": 2}}}');
      await expect(loadSpecFiles([path.join(d, 'dup.json')])).rejects.toThrow(/invalid JSON: Map keys must be unique/);
    });

    test('exit-status, user uid/gid and group gid convert a string with Atoi, as goss does (a float64); anything else is refused (goss panics)', async () => {
      const rs = await parseSpecText('command:\n  c: {exit-status: "0"}\nuser:\n  u: {exists: true, uid: "+7"}\nfile:\n  /f: {exists: true, uid: "0"}\n', path.join(dir, 'g.yml'));
      expect(rs.map((r) => r.checks.map((c) => c.value))).toEqual([[new Float64(0)], [true, new Float64(7)], [true, '0']]);
      expect((await problems('command:\n  c: {exit-status: "zero"}\n'))[0]).toMatchObject({ line: 2, message: expect.stringContaining('strconv.Atoi and stops with a panic on "zero"') });
    });

    test('an unquoted octal file mode says what goss compares', async () => {
      const rs = await parseSpecText('file:\n  /f: {exists: true, mode: 0644}\n', path.join(dir, 'g.yml'));
      expect(rs[0]!.checks[1]!.matcher.describe()).toBe('equal 420 (goss reads the unquoted 0644 as the octal int 420; quote it, "0644", to compare the text)');
      expect(rs[0]!.checks[1]!.matcher.match('0644')).toBe(false); // ToNumeric("0644") is 644
      expect((await parseSpecText('file:\n  /f: {exists: true, mode: 644}\n', path.join(dir, 'g.yml')))[0]!.checks[1]!.matcher.match('0644')).toBe(true);
    });
  });
});
