import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expandErb } from './erb.js';
import { originalOffset } from './text-position.js';

const F = '/p/kitchen.yml';

/** Ruby's own answers (scripts/erb-oracle.rb runs ERB.new(text).result as Test Kitchen does). */
const ORACLE = JSON.parse(
  readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/config/erb-ruby.json'), 'utf8'),
) as { cases: { template: string; env: Record<string, string>; output?: string; error?: string }[] };

describe('expandErb gives what Ruby gives', () => {
  it.each(ORACLE.cases.map((c) => [`${c.template} with ${JSON.stringify(c.env)}`, c] as const))('%s', (_, c) => {
    const r = expandErb(F, c.template, c.env);
    if (c.error !== undefined) {
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]!.message).toContain(c.error);
    } else {
      expect(r.problems).toEqual([]);
      expect(r.text).toBe(c.output);
    }
  });

  it('covers the forms issue 10 names', () => {
    const templates = ORACLE.cases.map((c) => c.template).join('\n');
    for (const form of ["|| 'default'", "ENV['X'] || ENV['Y']", '|| nil', "!ENV['CI']", 'ENV["A"]', '.to_s', '.to_i', '"ami-#{ENV[', "ENV.fetch('X') %>"]) {
      expect(templates).toContain(form);
    }
  });
});

describe('expandErb: notes and positions', () => {
  it('notes an unset variable that became text, once per tag, naming it', () => {
    const r = expandErb(F, `a: 1\nb: "<%= ENV['NOPE'] %>"\nc: <%= ENV['NOPE'] || 'x' %>\nd: <%= "k-#{ENV['P']}-#{ENV['Q']}" %>\n`, {});
    expect(r.problems).toEqual([]);
    expect(r.text).toBe('a: 1\nb: ""\nc: x\nd: k--\n');
    expect(r.notes.map((n) => [n.line, n.column, n.level])).toEqual([
      [2, 5, 'note'],
      [4, 4, 'note'],
    ]);
    expect(r.notes[0]!.message).toContain(`ENV['NOPE'] is not set`);
    expect(r.notes[1]!.message).toContain(`ENV['P'], ENV['Q'] are not set`);
    expect(r.notes[0]!.hint).toContain(`ENV['NOPE'] || 'value'`);
  });

  it('does not note a variable whose absence a default, a test or an explicit .to_s/.to_i/|| nil handles', () => {
    const r = expandErb(F, `a: <%= ENV['X'] || 'd' %>\nb: <%= !ENV['X'] %>\nc: <%= ENV.fetch('X', 'd') %>\nd: <%= ENV['X'] ? 1 : 2 %>\ne: "<%= ENV['X'].to_s %>"\nf: <%= ENV['X'].to_i %>\ng: "<%= ENV['X'] || nil %>"\n`, {});
    expect(r.notes).toEqual([]);
    expect(r.text).toBe('a: d\nb: true\nc: d\nd: 2\ne: ""\nf: 0\ng: ""\n');
  });

  it('reports ENV.fetch with no default as Ruby raises it, with its line and a fix', () => {
    const r = expandErb(F, `a: 1\nb: <%= ENV.fetch("MISSING_TWO") %>\n`, {});
    expect(r.problems).toEqual([expect.objectContaining({ file: F, line: 2, column: 4, message: 'ERB raises KeyError: key not found: "MISSING_TWO"' })]);
    expect(r.problems[0]!.hint).toContain(`ENV.fetch('MISSING_TWO', 'value')`);
  });

  it('keeps every line where it was', () => {
    const text = `a: 1\nb: <%= ENV['A'] %>\nc: <%= ENV.fetch('X', 'xx') %>\nd: 4\n`;
    const r = expandErb(F, text, { A: 'alpha' });
    expect(r.text).toBe('a: 1\nb: alpha\nc: xx\nd: 4\n');
  });

  it('maps offsets after a substitution back to the original text', () => {
    const text = `a: <%= ENV['A'] %> # tail`;
    const r = expandErb(F, text, { A: 'alpha' });
    expect(originalOffset(r.replacements, r.text.indexOf('# tail'))).toBe(text.indexOf('# tail'));
    expect(originalOffset(r.replacements, r.text.indexOf('alpha') + 2)).toBe(text.indexOf('<%='));
  });
});

describe('expandErb: Ruby that is not an environment lookup', () => {
  it.each([
    ['<%= 1 + 1 %>', 'hallmark evaluates only environment lookups', 'write the value itself'],
    ['<% if ENV["CI"] %>', 'hallmark does not run Ruby', 'KITCHEN_LOCAL_YAML'],
    ['<% end %>', 'hallmark does not run Ruby', 'overlay'],
    ["<% %w(a b).each do |x| %>", 'hallmark does not run Ruby', 'write the repeated entries out'],
    ["<% require 'json' %>", 'hallmark does not run Ruby', 'nothing is loaded'],
    ["<%= File.read('x').strip %>", 'hallmark evaluates only environment lookups', 'environment variable'],
    ['<%= Time.now.to_i %>', 'hallmark evaluates only environment lookups', '{{timestamp}}'],
    ["<% key = ENV['K'] %>", 'hallmark does not run Ruby', 'write the value where it is used'],
    ["<%= ENV['A'].sub('a', 'b') %>", 'hallmark evaluates only environment lookups', 'write the value itself'],
    ["<%- ENV['A'] -%>", 'hallmark does not run Ruby', 'write the value itself'],
    ["<%= ENV['A'] or 'x' %>", 'hallmark evaluates only environment lookups', 'write the value itself'],
  ])('refuses %s with its line and a rewrite', (tag, message, rewrite) => {
    const r = expandErb(F, `a: 1\nb: 2\nc: ${tag}\n`, { A: 'x', CI: '1' });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ line: 3, column: 4, found: tag });
    expect(r.problems[0]!.message).toContain(message);
    expect(r.problems[0]!.hint).toContain(rewrite);
    expect(r.text).not.toContain('<%');
  });

  it('reports a tag that is never closed', () => {
    const r = expandErb(F, `a: 1\nb: <%= ENV['A']\n`, { A: 'x' });
    expect(r.problems).toEqual([expect.objectContaining({ line: 2, message: 'ERB tag is not closed' })]);
  });
});

describe('expandErb: tags on YAML comment lines never block anything', () => {
  it.each([
    "#  always_update_cookbooks: <%= !ENV['CI'] %>",
    '    # <% if ENV["X"] %>',
    '# retries: <%= ENV.fetch("RETRIES") %>',
    '# <%= File.read("/etc/hostname") %>',
    "driver: qemu # <%= Time.now %>",
    '# key: <%= ENV["A"',
  ])('%s', (line) => {
    const r = expandErb(F, `a: 1\n${line}\nb: 2\nc: <%= ENV['C'] %>\n`, { C: 'c' });
    expect(r.problems).toEqual([]);
    expect(r.notes).toEqual([]);
    const lines = r.text.split('\n');
    expect([lines[0], lines[2], lines[3]]).toEqual(['a: 1', 'b: 2', 'c: c']);
  });

  it('still computes what it can (a # line inside a block scalar is text, not a comment)', () => {
    const r = expandErb(F, `script: |\n  # region <%= ENV['R'] %>\n`, { R: 'eu-west-1' });
    expect(r.text).toBe('script: |\n  # region eu-west-1\n');
  });

  it('a # inside quotes does not start a comment', () => {
    const r = expandErb(F, `a: "x # <%= 1 + 1 %>"\n`, {});
    expect(r.problems).toHaveLength(1);
  });
});
