import { describe, expect, it } from 'vitest';
import { expandErb } from './erb.js';
import { originalOffset } from './text-position.js';

const F = '/p/kitchen.yml';

describe('expandErb: the supported forms', () => {
  const env = { A: 'alpha', B: 'beta' };
  it.each([
    [`x: <%= ENV['A'] %>`, 'x: alpha'],
    [`x: <%= ENV["A"] %>`, 'x: alpha'],
    [`x: <%=ENV['A']%>`, 'x: alpha'],
    [`x: <%=   ENV[ 'A' ]   %>`, 'x: alpha'],
    [`x: <%= ENV.fetch('A') %>`, 'x: alpha'],
    [`x: <%= ENV.fetch("B") %>`, 'x: beta'],
    [`x: <%= ENV.fetch('NOPE', 'dflt') %>`, 'x: dflt'],
    [`x: <%= ENV.fetch("NOPE", "d f") %>`, 'x: d f'],
    [`x: <%= ENV.fetch( 'NOPE' ,'' ) %>`, 'x: '],
    [`x: <%= ENV.fetch('A', 'unused') %>`, 'x: alpha'],
    [`x: <%= ENV.fetch('NOPE', 'it\\'s') %>`, `x: it's`],
    [`x: <%# a comment %>1`, 'x: 1'],
    [`x: "<%%= literal %>"`, 'x: "<%= literal %>"'],
  ])('%s', (input, output) => {
    const r = expandErb(F, input, env);
    expect(r.problems).toEqual([]);
    expect(r.text).toBe(output);
  });

  it('keeps every line where it was', () => {
    const text = `a: 1\nb: <%= ENV['A'] %>\nc: <%= ENV.fetch('X', 'xx') %>\nd: 4\n`;
    const r = expandErb(F, text, env);
    expect(r.text.split('\n')).toHaveLength(text.split('\n').length);
    expect(r.text).toBe('a: 1\nb: alpha\nc: xx\nd: 4\n');
  });

  it('maps offsets after a substitution back to the original text', () => {
    const text = `a: <%= ENV['A'] %> # tail`;
    const r = expandErb(F, text, env);
    const outTail = r.text.indexOf('# tail');
    expect(originalOffset(r.replacements, outTail)).toBe(text.indexOf('# tail'));
    // inside the substituted value: the start of the tag
    expect(originalOffset(r.replacements, r.text.indexOf('alpha') + 2)).toBe(text.indexOf('<%='));
  });
});

describe('expandErb: problems', () => {
  it('reports a missing variable with its name and line, for both forms', () => {
    const text = `a: 1\nb: <%= ENV['MISSING_ONE'] %>\nc: 2\nd: <%= ENV.fetch("MISSING_TWO") %>\n`;
    const r = expandErb(F, text, {});
    expect(r.problems).toHaveLength(2);
    expect(r.problems[0]).toMatchObject({ file: F, line: 2, column: 4 });
    expect(r.problems[0]!.message).toContain('MISSING_ONE');
    expect(r.problems[1]).toMatchObject({ line: 4, column: 4 });
    expect(r.problems[1]!.message).toContain('MISSING_TWO');
    expect(r.problems[1]!.hint).toContain(`ENV.fetch('MISSING_TWO', 'value')`);
  });

  it('treats a set but empty variable as set', () => {
    expect(expandErb(F, `a: "<%= ENV['E'] %>"`, { E: '' })).toMatchObject({ text: 'a: ""', problems: [] });
  });

  it.each([
    ['<%= 1 + 1 %>', 1],
    ['<% if ENV["CI"] %>', 1],
    ["<%= File.read('x') %>", 1],
    ["<%= ENV['A'].upcase %>", 1],
    ["<%= ENV['A'] || 'x' %>", 1],
    ["<%- ENV['A'] -%>", 1],
  ])('rejects %s as unsupported, with its line', (tag) => {
    const r = expandErb(F, `a: 1\nb: 2\nc: ${tag}\n`, { A: 'x', CI: '1' });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ line: 3, column: 4, message: 'unsupported ERB', found: tag });
    expect(r.text).not.toContain('<%');
  });

  it('reports a tag that is never closed', () => {
    const r = expandErb(F, `a: 1\nb: <%= ENV['A']\n`, { A: 'x' });
    expect(r.problems).toEqual([expect.objectContaining({ line: 2, message: 'ERB tag is not closed' })]);
  });
});
