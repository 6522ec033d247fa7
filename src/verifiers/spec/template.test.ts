import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../kernel/errors.js';
import { parseSpecText } from './load.js';
import { loadVars, parseVarsText, renderTemplate, type TemplateVars } from './template.js';
import { formatValue } from './template/values.js';

const env = { OS: 'centos', HOME: '/root', EMPTY: '' };

function render(text: string, vars: TemplateVars | Record<string, unknown> = {}, extra: { env?: Record<string, string>; baseDir?: string } = {}) {
  return renderTemplate(text, 'goss.yaml', { vars, env: extra.env ?? env, ...(extra.baseDir ? { baseDir: extra.baseDir } : {}) });
}
const out = (text: string, vars: TemplateVars | Record<string, unknown> = {}) => {
  const r = render(text, vars);
  expect(r.problems).toEqual([]);
  return r.text;
};
const err = (text: string, vars: TemplateVars | Record<string, unknown> = {}) => {
  const r = render(text, vars);
  expect(r.problems).toHaveLength(1);
  return `${r.problems[0]!.line}: ${r.problems[0]!.message}`;
};

describe("goss's documented template examples (docs/gossfile.md, Templates)", () => {
  test('mkSlice in a range, with {{- trimming', () => {
    const text = 'file:\n{{- range mkSlice "/etc/passwd" "/etc/group"}}\n  {{.}}:\n    exists: true\n    mode: "0644"\n{{end}}';
    expect(out(text)).toBe('file:\n  /etc/passwd:\n    exists: true\n    mode: "0644"\n\n  /etc/group:\n    exists: true\n    mode: "0644"\n');
  });

  test('sprig in a pipeline: "hello!" | upper | repeat 5', () => {
    expect(out('content: {{ "hello!" | upper | repeat 5 }}')).toBe('content: HELLO!HELLO!HELLO!HELLO!HELLO!');
  });

  test('vars.yaml looked up by $OS, regexMatch, eq, and a loop over users: rendered, then loaded as goss would', async () => {
    const vars = parseVarsText(
      'centos:\n  packages:\n    kernel:\n      - "4.9.11-centos"\n      - "4.9.11-centos2"\ndebian:\n  packages:\n    kernel:\n      - "4.9.11-debian"\nusers:\n  - user1\n  - user2\n',
      'vars.yaml',
    );
    const text = [
      'package:',
      '{{range $name, $vers := index .Vars .Env.OS "packages"}}',
      '  {{$name}}:',
      '    installed: true',
      '    versions:',
      '    {{range $vers}}',
      '      - {{.}}',
      '    {{end}}',
      '{{end}}',
      '{{if .Env.OS | regexMatch "[Cc]ent(OS|os)"}}',
      '  libselinux:',
      '    installed: true',
      '{{end}}',
      'user:',
      '{{range .Vars.users}}',
      '  {{.}}:',
      '    exists: true',
      '    groups:',
      '    - {{.}}',
      '    home: /home/{{.}}',
      '{{end}}',
    ].join('\n');
    const specs = await parseSpecText(text, '/tmp/goss.yaml', { vars, env });
    expect(specs.map((r) => `${r.type}:${r.key}:${r.checks.map((c) => `${c.name}=${JSON.stringify(c.value)}`).join(',')}`)).toEqual([
      'package:kernel:installed=true,versions=["4.9.11-centos","4.9.11-centos2"]',
      'package:libselinux:installed=true',
      'user:user1:exists=true,groups=["user1"],home="/home/user1"',
      'user:user2:exists=true,groups=["user2"],home="/home/user2"',
    ]);
    // With OS=debian the condition is false: no libselinux.
    const deb = await parseSpecText(text, '/tmp/goss.yaml', { vars, env: { OS: 'debian' } });
    expect(deb.map((r) => r.key)).toEqual(['kernel', 'user1', 'user2']);
  });

  test("goss's integration gossfile: toLower in a range, toJson of runlevels, if on an optional proxy", () => {
    const vars = parseVarsText('alpine3:\n  proxy: http://127.0.0.1:8888\n  services:\n    apache2: [sysinit]\narch:\n  packages:\n', 'vars.yaml');
    expect(out('{{range mkSlice "/etc/PAsswD" "/etc/group"}}{{. | toLower}};{{end}}')).toBe('/etc/passwd;/etc/group;');
    const svc = '{{- range $name, $runlevels := index .Vars .Env.OS "services"}}\n  {{$name}}:\n    runlevels: {{toJson $runlevels}}\n{{end}}';
    expect(render(svc, vars, { env: { OS: 'alpine3' } }).text).toBe('\n  apache2:\n    runlevels: ["sysinit"]\n');
    const http = 'http:\n  {{ if index .Vars .Env.OS "proxy" }}\n  x: {{ index .Vars .Env.OS "proxy" }}\n  {{ end }}';
    expect(render(http, vars, { env: { OS: 'alpine3' } }).text).toBe('http:\n  \n  x: http://127.0.0.1:8888\n  ');
    expect(render(http, vars, { env: { OS: 'arch' } }).text).toBe('http:\n  ');
  });

  test('findStringSubmatch: named groups by name, else by index as strings (with sprig get)', () => {
    const line = "$config['db_dsnw'] = 'mysql://rc:s3cret@localhost/roundcube_db';";
    const named = `{{ $m := "${line}" | findStringSubmatch "mysql://(?P<login>[a-z0-9]+):(?P<password>[a-z0-9]+)@localhost/(?P<database>roundcube_[a-z0-9]+)" }}{{ get $m "login" }} {{ get $m "password" }} {{ get $m "database" }}`;
    expect(out(named.replace(/\$config\['db_dsnw'\]/, 'x'))).toBe('rc s3cret roundcube_db');
    const unnamed = '{{ $m := findStringSubmatch "([a-z]+)-([0-9]+)" "abc-42" }}{{ get $m "0" }}|{{ get $m "1" }}|{{ get $m "2" }}';
    expect(out(unnamed)).toBe('abc-42|abc|42');
  });

  test('readFile (trimmed, relative to the base directory) and getEnv with a default', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hm-tpl-'));
    await writeFile(path.join(dir, 'token'), '  s3cret\n\n');
    expect(render('{{ readFile "token" }}|{{ getEnv "NOPE" "dflt" }}|{{ getEnv "EMPTY" "d2" }}|{{ getEnv "OS" }}|{{ getEnv "NOPE" }}|', {}, { baseDir: dir }).text).toBe('s3cret|dflt|d2|centos||');
    expect(render('\n{{ readFile "nope" }}', {}, { baseDir: dir }).problems[0]).toMatchObject({ line: 2, message: expect.stringMatching(/error calling readFile: ENOENT/) });
  });

  test('matching with template vars from a JSON file (numbers are float64 there, as in goss)', async () => {
    const vars = parseVarsText('{"instance_count": 14, "failures": 3, "status": "FAIL", "big": 1000000}', 'data.json');
    const text = 'matching:\n  check_instance_count:\n    content: {{ .Vars.instance_count }}\n    matches:\n      gt: 0\n  check_status:\n    content: {{ .Vars.status }}\n    matches:\n      - not: FAIL\n  big:\n    content: {{ .Vars.big }}\n    matches: 1000000';
    expect(out(text, vars)).toContain('content: 14\n');
    expect(out('{{ .Vars.big }}', vars)).toBe('1e+06'); // Go prints float64(1000000) so
    const specs = await parseSpecText(text, '/tmp/m.yaml', { vars, env });
    expect(specs.map((r) => r.key)).toEqual(['check_instance_count', 'check_status', 'big']);
  });
});

describe('errors name the file and line (exit 2), never a half-rendered file', () => {
  test('missingkey=error: an undefined var or environment variable', () => {
    expect(err('a: 1\nb: {{ .Vars.nope }}')).toBe('2: template: executing at <.nope>: map has no entry for key "nope"');
    expect(err('\n\n{{ .Env.UNSET_X }}')).toBe('3: template: executing at <.UNSET_X>: map has no entry for key "UNSET_X"');
    expect(err('{{ .Vars.a.b }}', { a: null })).toBe('1: template: executing at <.b>: nil data; no entry for key "b"');
    expect(err('{{ .Nope }}')).toMatch(/can't evaluate field Nope in type \*goss.TmplVars/);
  });

  test('parse errors: unknown function, unclosed action, undefined variable, stray end', () => {
    expect(err('x\n{{ nosuch 1 }}')).toBe('2: template: function "nosuch" not defined');
    expect(err('x\ny\n{{ .Vars.a ')).toMatch(/^3: template: unclosed action/);
    expect(err('{{ $x }}')).toBe('1: template: undefined variable "$x"');
    expect(err('a\n{{ end }}')).toBe('2: template: unexpected {{end}}');
    expect(err('{{ if true }}')).toMatch(/unexpected EOF/);
    expect(err('{{ now }}')).toBe('1: template: function "now" is not available in hallmark: dates depend on when the checks are rendered');
  });

  test('wrong argument types, as Go checks them', () => {
    expect(err('{{ upper 5 }}')).toBe('1: template: expected string; found 5');
    expect(err('{{ repeat "x" "y" }}')).toBe('1: template: expected integer; found "x"');
    expect(err('{{ upper .Vars.n }}', { n: 5 })).toBe('1: template: wrong type for value; expected string; got int');
    expect(err('{{ eq 1 1.0 }}')).toBe('1: template: error calling eq: incompatible types for comparison');
    expect(err('{{ regexMatch "(" "x" }}')).toMatch(/error calling regexMatch: error parsing regexp/);
    expect(err('{{ fail "stop here" }}')).toBe('1: template: error calling fail: stop here');
  });

  test('a bad template in a gossfile is a ConfigError naming file and line', async () => {
    const e = await parseSpecText('file:\n  /etc/passwd:\n    exists: {{ .Vars.missing }}\n', '/tmp/bad.yaml').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).problems[0]).toMatchObject({ file: path.resolve('/tmp/bad.yaml'), line: 3 });
  });
});

describe("Go's text/template semantics", () => {
  test('trim markers and comments', () => {
    expect(out('a  {{- "b" -}}  \n c')).toBe('abc');
    expect(out('a {{-3}} b')).toBe('a -3 b'); // no space after the dash: a number
    expect(out('x {{/* a comment */}} y {{- /* trimmed */ -}} z')).toBe('x  yz');
  });

  test('if / else if / else, with / else with, and / or short-circuit, not', () => {
    const t = '{{ if eq .x 1 }}one{{ else if eq .x 2 }}two{{ else }}many{{ end }}';
    expect(out(t.replace(/\.x/g, '.Vars.x'), { x: 2 })).toBe('two');
    expect(out(t.replace(/\.x/g, '.Vars.x'), { x: 7 })).toBe('many');
    expect(out('{{ with .Vars.a }}[{{ . }}]{{ else with .Vars.b }}<{{ . }}>{{ else }}none{{ end }}', { a: '', b: 'B' })).toBe('<B>');
    expect(out('{{ and 1 0 }} {{ or 0 "" "z" }} {{ not 0 }} {{ and false (fail "never") }} {{ or true (fail "never") }}')).toBe('0 z true false true');
  });

  test('range: lists, maps in key order, integers, $i/$v, else, break and continue', () => {
    expect(out('{{ range $i, $v := .Vars.l }}{{ $i }}={{ $v }};{{ end }}', { l: ['a', 'b'] })).toBe('0=a;1=b;');
    expect(out('{{ range $k, $v := .Vars.m }}{{ $k }}={{ $v }};{{ end }}', { m: { b: 2, a: 1 } })).toBe('a=1;b=2;');
    expect(out('{{ range 3 }}{{ . }}{{ end }}')).toBe('012');
    expect(out('{{ range .Vars.l }}x{{ else }}empty{{ end }}', { l: [] })).toBe('empty');
    expect(out('{{ range until 6 }}{{ if eq . 1 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}')).toBe('023');
  });

  test('variables: declare, assign, scope ends with the control structure, $ is the data', () => {
    expect(out('{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}')).toBe('2');
    expect(err('{{ if true }}{{ $y := 3 }}{{ end }}{{ $y }}')).toBe('1: template: undefined variable "$y"');
    expect(out('{{ range .Vars.l }}{{ $.Vars.p }}{{ . }} {{ end }}', { l: ['a', 'b'], p: '-' })).toBe('-a -b ');
  });

  test('define, template and block', () => {
    expect(out('{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" "q" }}{{ block "b" 3 }}<{{ . }}>{{ end }}')).toBe('[q]<3>');
  });

  test('values print as Go prints them', () => {
    const vars = parseVarsText('i: 3\nf: 1.5\nwhole: 2.0\nn: ~\nl: [1, "a", true]\nm: {b: 1, a: [x]}\n', 'v.yaml');
    expect(out('{{ .Vars.i }} {{ .Vars.f }} {{ .Vars.whole }} {{ .Vars.n }} {{ .Vars.l }} {{ .Vars.m }}', vars)).toBe('3 1.5 2 <no value> [1 a true] map[a:[x] b:1]');
    expect(out('{{ 1e6 }} {{ 0x1F }} {{ 017 }} {{ \'a\' }} {{ 1.5e-7 }} {{ -3 }} {{ 123456.0 }} {{ "\\u00e9\\t" }} {{ `raw\\n` }}')).toBe('1e+06 31 15 97 1.5e-07 -3 123456 é\t raw\\n');
    expect(out('{{ index .Vars.m "zz" }} {{ len "é" }} {{ index "ab" 1 }} {{ print 1 2 "a" 3 }}', vars)).toBe('<no value> 2 98 1 2a3');
  });

  test('printf', () => {
    expect(out('{{ printf "%05.2f|%-4d|%q|%v|%x|%s|%t|%d" 3.14159 42 "a\\"b" .Vars.l 255 "s" true "x" }}', { l: ['u', 'v'] })).toBe('03.14|42  |"a\\"b"|[u v]|ff|s|true|%!d(string=x)');
    expect(out('{{ printf "%s %s" "one" }}|{{ printf "%d" 1 2 }}')).toBe('one %!s(MISSING)|1%!(EXTRA int=2)');
  });

  test('eq compares with any of several, ne/lt/ge on the same basic kind', () => {
    expect(out('{{ eq "b" "a" "b" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ ge "b" "a" }} {{ le 2.5 2.5 }} {{ eq .Vars.n "x" }}', { n: null })).toBe('true true true true true false');
    expect(err('{{ lt 1 "a" }}')).toBe('1: template: error calling lt: incompatible types for comparison');
  });
});

describe('sprig functions', () => {
  test('strings', () => {
    expect(out('{{ "  x " | trim | quote }} {{ squote "a" }} {{ "abc" | title }} {{ trimAll "$" "$$a$" }} {{ trimPrefix "-" "-a" }} {{ replace "a" "b" "aXa" }} {{ "abcdef" | trunc 3 }} {{ substr 1 3 "abcdef" }} {{ contains "b" "abc" }} {{ hasPrefix "a" "abc" }} {{ cat "a" 1 nil "b" }}')).toBe(
      '"x" \'a\' Abc a a bXb abc bc true true a 1 b',
    );
    expect(out('{{ indent 2 "a\\nb" }}|{{ nindent 2 "a" }}|{{ nospace " a b " }}|{{ plural "one" "many" 2 }}')).toBe('  a\n  b|\n  a|ab|many');
    expect(out('{{ sha256sum "abc" }} {{ b64enc "hi" }} {{ b64dec "aGk=" }} {{ adler32sum "Wikipedia" }}')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad aGk= hi 300286872');
  });

  test('lists and dicts', () => {
    expect(out('{{ list 1 "a" | toJson }} {{ .Vars.l | join "," }} {{ splitList "," "a,b" | toJson }} {{ (split "." "a.b")._1 }} {{ dict "a" 1 "b" (list 1 2) | toJson }}', { l: ['x', 'y'] })).toBe(
      '[1,"a"] x,y ["a","b"] b {"a":1,"b":[1,2]}',
    );
    expect(out('{{ first .Vars.l }} {{ last .Vars.l }} {{ rest .Vars.l }} {{ initial .Vars.l }} {{ reverse .Vars.l }} {{ uniq (list 1 1 2) }} {{ without .Vars.l "y" }} {{ has "x" .Vars.l }} {{ append .Vars.l "z" }} {{ prepend .Vars.l "w" }} {{ concat .Vars.l (list 3) }} {{ slice .Vars.l 1 }} {{ compact (list "" "a" 0 1) }}', { l: ['x', 'y'] })).toBe(
      'x y [y] [x] [y x] [1 2] [x] true [x y z] [w x y] [x y 3] [y] [a 1]',
    );
    expect(out('{{ $d := dict "b" 2 "a" 1 }}{{ keys $d | sortAlpha }} {{ get $d "a" }} {{ hasKey $d "c" }} {{ values $d }} {{ pick $d "a" }} {{ omit $d "a" }} {{ dig "x" "y" "dflt" (dict "x" (dict "y" "deep")) }}')).toBe(
      '[a b] 1 false [1 2] map[a:1] map[b:2] deep',
    );
    expect(out('{{ merge (dict "a" 1) (dict "a" 2 "b" 3) }} {{ mergeOverwrite (dict "a" 1) (dict "a" 2) }}')).toBe('map[a:1 b:3] map[a:2]');
  });

  test('defaults, conversion, math, JSON, reflection, regex, paths', () => {
    expect(out('{{ default "d" "" }} {{ default "d" "v" }} {{ empty 0 }} {{ coalesce "" 0 "c" }} {{ ternary "y" "n" true }} {{ atoi "42" }} {{ int "7" }} {{ float64 "1.5" }} {{ toString 3 }}')).toBe('d v true c y 42 7 1.5 3');
    expect(out('{{ add 1 2 3 }} {{ sub 5 2 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }} {{ max 1 5 3 }} {{ min 4 2 }} {{ add1 1 }} {{ floor 1.5 }} {{ ceil 1.2 }} {{ round 3.14159 2 }} {{ until 3 }} {{ seq 3 }}')).toBe(
      '6 3 6 3 1 5 2 2 1 2 3.14 [0 1 2] 1 2 3',
    );
    expect(out('{{ toJson "<a&b>" }} {{ toRawJson "<a>" }} {{ toPrettyJson (dict "a" (list 1)) }} {{ (fromJson "{\\"a\\": 1}").a }}')).toBe('"\\u003ca\\u0026b\\u003e" "<a>" {\n  "a": [\n    1\n  ]\n} 1');
    expect(out('{{ typeOf 1 }} {{ typeOf 1.5 }} {{ typeOf (list) }} {{ typeOf (splitList "," "") }} {{ kindOf (dict) }} {{ kindIs "string" "x" }} {{ deepEqual (list 1) (list 1) }}')).toBe(
      'int float64 []interface {} []string map true true',
    );
    expect(out('{{ regexFind "[0-9]+" "a12b34" }} {{ regexFindAll "[0-9]" "a1b2c3" 2 }} {{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} {{ regexReplaceAllLiteral "a(x*)b" "-ab-" "${1}" }} {{ regexSplit "z+" "pizza" -1 }} {{ regexQuoteMeta "a.b" }}')).toBe(
      '12 [1 2] -W-xxW- -${1}- [pi a] a\\.b',
    );
    expect(out('{{ base "/a/b.txt" }} {{ dir "/a/b.txt" }} {{ ext "b.tar.gz" }} {{ clean "/a/../b//c/" }} {{ isAbs "x" }}')).toBe('b.txt /a .gz /b/c false');
    expect(render('{{ env "OS" }} {{ expandenv "$OS-${HOME}" }}').text).toBe('centos centos-/root');
  });
});

describe('vars: files and inline vars as goss merges them (store_test.go Test_loadVars)', () => {
  const files = async (...contents: string[]) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hm-vars-'));
    return Promise.all(
      contents.map(async (c, i) => {
        const f = path.join(dir, `v${i}.yaml`);
        await writeFile(f, c);
        return f;
      }),
    );
  };
  const show = (v: TemplateVars) => formatValue(v);

  test.each([
    ['both empty', [''], '{}', 'map[]'],
    ['file empty', [''], '{b: b}', 'map[b:b]'],
    ['inline empty', ['{a: a}'], '{}', 'map[a:a]'],
    ['overwrite', ['{a: a}'], '{a: c, b: b}', 'map[a:c b:b]'],
    ['multiple files, overlapped keys', ['{a: a}', '{b: b}', '{a: overriden, c: c}'], '{}', 'map[a:overriden b:b c:c]'],
    ['multiple files, inline vars', ['{a: a}', '{b: b}', '{a: overriden, c: c}'], '{c: overriden, b: b}', 'map[a:overriden b:b c:overriden]'],
    ['multiple nested files', ['{vars: {a: a}}', '{vars: {b: b}}', '{vars: {a: overriden}}'], '{}', 'map[vars:map[a:overriden b:b]]'],
    ['nested files and inline vars', ['{vars: {a: a}}', '{vars: {b: b}}', '{vars: {a: overriden}}'], '{vars: { c: c }}', 'map[vars:map[c:c]]'],
  ])('%s', async (_name, contents, inline, want) => {
    expect(show(await loadVars(await files(...contents), inline))).toBe(want);
  });

  test('a vars file that is not a map is an error naming it', async () => {
    const [f] = await files('- a\n- b\n');
    await expect(loadVars([f!])).rejects.toThrow(/v0.yaml: vars must be a map/);
  });
});
