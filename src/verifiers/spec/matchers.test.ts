import { describe, expect, test } from 'vitest';
import { Float64, goTyped } from './go-values.js';
import { compileMatcher, MatchError, MatcherSyntaxError } from './matchers.js';
import { compileReader as compilePatterns } from './patterns.js';
import { parseConstraint, satisfiesConstraint } from './semver.js';

const ok = (expect_: unknown, actual: unknown) => compileMatcher(expect_).match(actual);

describe('gomega-style matchers', () => {
  test.each([
    // [expectation, actual, result]
    ['Linux', 'Linux', true],
    ['Linux', 'linux', false],
    [0, 0, true],
    [128, '128', true], // goss transforms the observed string to a number
    [128, '129', false],
    [true, true, true],
    [true, false, false],
    [['a', 'b'], ['b', 'a', 'c'], true], // a list means "contains each"
    [['a', 'z'], ['a', 'b'], false],
    [{ equal: ['a', 'b'] }, ['a', 'b'], true],
    [{ equal: ['a', 'b'] }, ['b', 'a'], false],
    [{ equal: ['a', 'b'] }, goTyped(['a', 'b']), false], // a []string from the target never DeepEquals the gossfile's []interface{}
    [{ not: { equal: ['a', 'b'] } }, goTyped(['a', 'b']), true],
    [{ 'consist-of': ['b', 'a'] }, goTyped(['a', 'b']), true],
    [{ 'have-prefix': 'Lin' }, 'Linux', true],
    [{ 'have-prefix': 'nux' }, 'Linux', false],
    [{ 'have-suffix': 'nux' }, 'Linux', true],
    [{ 'have-suffix': 'Lin' }, 'Linux', false],
    [{ 'contain-substring': 'inu' }, 'Linux', true],
    [{ 'contain-substring': 'xyz' }, 'Linux', false],
    [{ 'match-regexp': '^\\d{2}$' }, 42, true],
    [{ 'match-regexp': '^\\d{3}$' }, 42, false],
    [{ 'have-len': 3 }, ['a', 'b', 'c'], true],
    [{ 'have-len': 2 }, 'abc', false],
    [{ 'have-key': 'a' }, { a: 1 }, true],
    [{ 'have-key': 'b' }, { a: 1 }, false],
    [{ 'contain-element': { 'have-prefix': 'b' } }, ['foo', 'bar'], true],
    [{ 'contain-element': 'baz' }, ['foo', 'bar'], false],
    [{ 'contain-elements': ['foo', 'bar'] }, ['foo', 'bar', 'moo'], true],
    [{ 'contain-elements': ['foo', 'zzz'] }, ['foo', 'bar'], false],
    [{ 'consist-of': ['bar', { 'have-prefix': 'f' }] }, ['foo', 'bar'], true],
    [{ 'consist-of': ['bar'] }, ['foo', 'bar'], false],
    [{ gt: 40 }, '42', true],
    [{ gt: 42 }, 42, false],
    [{ ge: 42 }, 42, true],
    [{ lt: 45 }, 42, true],
    [{ lt: 42 }, 42, false],
    [{ le: 42 }, 42, true],
    [{ 'semver-constraint': '>1.0.0 <2.0.0 !=1.5.0' }, ['1.0.1', '1.9.9'], true],
    [{ 'semver-constraint': '>1.0.0 <2.0.0 !=1.5.0' }, ['1.0.1', '1.5.0'], false],
    [{ 'semver-constraint': '>5.0.0 || <1.5.0' }, '1.0.1', true],
    [{ 'semver-constraint': '>=1.0.0-rc.9' }, '1.0.0-rc.10', true], // numeric pre-release identifiers compare as numbers
    [{ 'semver-constraint': '< 1.5.0' }, '1.0.1', true], // blang: a space may follow the operator
    [{ 'semver-constraint': '1.x' }, '1.9.0', true],
    [{ 'semver-constraint': '1.x' }, '2.0.0', false],
    // goss's value model: a bool expectation is Go equality, a string one compares the value's text
    [true, 'true', false],
    ['true', true, true],
    [{ equal: '1' }, 1, false],
    [{ equal: 1 }, 1, true],
    [42.0, '42', true],
    // a list: each expected element taken by a different actual element (gomega ContainElements)
    [['group1', 'group2', 'group2'], ['group1', 'group2', 'group3'], false],
    [{ 'contain-element': 'b' }, 'a\nb', true], // ToArray splits a string on newlines
    [{ 'have-len': 4 }, 'héé', false], // Go len(): bytes
    [{ 'have-len': 5 }, 'héé', true],
    [{ 'match-regexp': '(?i)^ROOT' }, 'root', true], // Go RE2 syntax
    [{ gjson: { 'moo.nested': 'cow', count: { le: 25 }, '@this': { 'have-key': 'foo' } } }, '{"foo":"bar","moo":{"nested":"cow"},"count":"15"}', true],
    [{ gjson: { 'arr.#': 2, 'arr.1.b': 2 } }, '{"arr":[{"a":1},{"b":2}]}', true],
    [{ not: 'FAIL' }, 'PASS', true],
    [{ not: 'FAIL' }, 'FAIL', false],
    [{ and: [{ 'have-prefix': '4' }, { 'have-suffix': '2' }] }, 42, true],
    [{ and: [{ 'have-prefix': '4' }, { 'have-suffix': '3' }] }, 42, false],
    [{ or: ['0600', '0640'] }, '0640', true],
    [{ or: ['0600', '0640'] }, '0644', false],
  ])('%j against %j is %s', (e, a, r) => {
    expect(ok(e, a)).toBe(r);
  });

  test.each([
    // goss returns an error here: the check fails, and `not` does not make it pass
    [{ le: 41 }, 'not a number'],
    [{ not: { le: 41 } }, 'not a number'],
    [['a'], 'a'], // a list expectation needs a list (or map), not a string
    [{ 'consist-of': ['a'] }, 'a'],
    [{ 'semver-constraint': '>=2.3.0' }, '2.36-9+deb12u4'], // dpkg versions are not semver (blang's strict Parse)
    [{ 'semver-constraint': '>=1.0.0' }, []],
    [{ gjson: { foo: 'x' } }, '{not json'],
    [{ gjson: { nope: 'x' } }, '{"foo":1}'],
  ])('%j against %j is an error (a failure)', (e, a) => {
    expect(() => ok(e, a)).toThrow(MatchError);
  });

  test('unknown matchers and bad arguments are rejected at compile time', () => {
    expect(() => compileMatcher({ 'have-prefx': 'a' })).toThrow(/unknown matcher "have-prefx" \(did you mean "have-prefix"\?\)/);
    expect(() => compileMatcher({ gt: 'x' })).toThrow(MatcherSyntaxError);
    expect(() => compileMatcher({ 'match-regexp': '(' })).toThrow(/invalid regular expression/);
    expect(() => compileMatcher({ a: 1, b: 2 })).toThrow(/only one matcher/);
    expect(() => compileMatcher(null)).toThrow(/missing expectation/);
    expect(() => compileMatcher({ 'semver-constraint': '>=x.y' })).toThrow(/invalid wildcard/);
    expect(() => compileMatcher({ 'semver-constraint': '>=9.0' })).toThrow(/invalid version/); // blang needs MAJOR.MINOR.PATCH
    expect(() => compileMatcher({ 'have-prefix': 4 })).toThrow(/expected string/);
    expect(() => compileMatcher({ 'contain-element': true })).toThrow(/matcher, string or numeric/);
    expect(() => compileMatcher({ 'be-numerically': ['>', 1] })).toThrow(/unknown matcher/); // not a goss matcher
    expect(() => compileMatcher({ xml: { xpath: 'a', result: 'b' } })).toThrow(/xml matcher/);
  });

  test('descriptions say what was expected', () => {
    expect(compileMatcher({ not: { 'contain-element': 'x' } }).describe()).toBe('not contain element equal "x"');
    expect(compileMatcher('0644').describe()).toBe('equal "0644"');
  });
});

describe('Go number types: an int (a JavaScript integer) and a float64 (Float64), as goss sees them', () => {
  const f = (n: number) => new Float64(n);
  test.each([
    // equal is reflect.DeepEqual: the type must agree
    [{ equal: f(1) }, 1, false], // `equal: 1.0` on an int
    [{ equal: 1 }, f(1), false],
    [{ equal: f(1) }, f(1), true],
    [{ equal: 1 }, 1, true],
    [{ equal: [1, 2] }, [f(1), f(2)], false],
    [{ equal: { a: f(1) } }, { a: f(1) }, true],
    // a gjson number is a float64
    [{ gjson: { n: { equal: 3 } } }, '{"n":3}', false],
    [{ gjson: { n: { equal: f(3) } } }, '{"n":3}', true],
    [{ gjson: { n: 3 } }, '{"n":3}', true], // a plain number compares numerically
    [{ gjson: { n: f(3) } }, '{"n":3}', true],
    [{ gjson: { n: { gt: 2 } } }, '{"n":3}', true],
    [{ gjson: { n: { le: f(2.5) } } }, '{"n":3}', false],
    [{ gjson: { arr: { equal: [1, 2] } } }, '{"arr":[1,2]}', false],
    [{ gjson: { arr: { equal: [f(1), f(2)] } } }, '{"arr":[1,2]}', true],
    [{ gjson: { arr: { 'consist-of': [2, 1] } } }, '{"arr":[1,2]}', true],
    [{ gjson: { arr: { 'contain-element': 2 } } }, '{"arr":[1,2]}', true],
    [{ gjson: { 'arr.#': { equal: 2 } } }, '{"arr":[1,2]}', false], // a count is a float64 too
    [{ gjson: { 'arr.#': 2 } }, '{"arr":[1,2]}', true],
    [{ gjson: { '@this': { equal: { a: 1 } } } }, '{"a":1}', false],
    [{ gjson: { '@this': { equal: { a: f(1) } } } }, '{"a":1}', true],
    // numeric comparisons (BeNumerically): an int and a float64 compare by value
    [f(0), 0, true], // `exit-status: 0.0` passes on 0
    [0, f(0), true],
    [f(1.5), 1, false],
    [{ lt: f(0.5) }, 0, true],
    [{ ge: 1 }, f(1), true],
    [{ gt: f(1.5) }, 2, true],
    [{ gt: f(2.5) }, 2, false],
    [{ 'have-len': f(2.9) }, 'ab', true], // int(2.9)
    // ToString of a float64 is Go's %v
    ['1', f(1), true],
    ['1e+06', f(1e6), true],
    ['100000', f(1e5), true],
    ['0.5', f(0.5), true],
    // ToNumeric takes a []string the target reported, not a gossfile's or JSON's list
    [5, goTyped(['5']), true],
  ])('%j against %j is %s', (e, a, r) => {
    expect(ok(e, a)).toBe(r);
  });

  test.each([
    [5, ['5']], // []interface{}: Expected numeric
    [{ gjson: { arr: 1 } }, '{"arr":[1]}'],
    [{ gt: 1 }, true],
  ])('%j against %j is an error (a failure)', (e, a) => {
    expect(() => ok(e, a)).toThrow(MatchError);
  });

  test('a failure says when only the Go type differs', () => {
    const m = compileMatcher({ gjson: { n: { equal: 3 } } });
    expect(m.match('{"n":3}')).toBe(false);
    expect(m.explain!('{"n":3}')).toBe(
      'gjson "n" is the float64 3.0: goss\'s equal is reflect.DeepEqual: found the float64 3.0, expected the int 3, and values of different Go types are never equal; write 3.0, or a plain number (no equal:), which compares an int and a float64 by value',
    );
    expect(compileMatcher({ equal: f(1) }).explain!(1)).toContain('found the int 1, expected the float64 1.0');
    expect(compileMatcher({ equal: f(1) }).describe()).toBe('equal 1.0');
    expect(compileMatcher({ equal: 'a' }).explain!('b')).toBeUndefined();
  });

  test('argument types as goss checks them', () => {
    expect(compileMatcher({ 'have-len': f(2) }).match('ab')).toBe(true);
    expect(compileMatcher({ 'contain-element': f(2) }).match([f(2)])).toBe(true);
    expect(() => compileMatcher({ 'have-prefix': f(1) })).toThrow(/expected string value, but received float64 1.0/);
  });
});

describe('goss line patterns', () => {
  const text = 'root:x:0:0\nfoo bar\n!bang\n';
  test.each([
    [['root'], true],
    [['nobody'], false],
    [['!nobody'], true],
    [['!foo'], false],
    [['/^root:x:0/'], true],
    [['/^foo$/'], false],
    [['!/^foo /'], false],
    [['\\!bang'], true], // goss trims every leading \\ / ! of a plain pattern: looks for "bang"
    [['/^ROOT/'], false],
    [['/^ROOT/i'], true], // flags i, m, s
    [['!/ROOT/i'], false],
    [['/foo.bar/s'], true],
    [['/no-closing'], false], // not a regex: the plain text "no-closing"
    [[''], true],
    ['foo', false], // a single string means equality with the whole text
    [text, true],
    [{ 'contain-element': 'foo bar' }, true], // a matcher map gets the whole text (ToArray splits it)
    [{ 'have-patterns': ['/^foo/', '!nobody'] }, true],
    [{ not: { 'contain-element': { 'match-regexp': '^x' } } }, true],
  ])('%j', (p, r) => {
    expect(compilePatterns(p)!.match(text)).toBe(r);
  });

  test('an empty text: "" equals it, [] asserts nothing (no check at all)', () => {
    expect(compilePatterns('')!.match('')).toBe(true);
    expect(compilePatterns('')!.match('x\n')).toBe(false);
    expect(compilePatterns([])).toBeUndefined();
  });

  test('explains which patterns failed', () => {
    const m = compilePatterns(['root', 'nobody', '!foo'])!;
    expect(m.explain!(text)).toBe('not found: ["nobody"]; found but negated: ["!foo"]');
  });
});

describe('semver', () => {
  test('ranges', () => {
    expect(satisfiesConstraint('2.3.4-1+deb12u1', parseConstraint('>=2.3.0 <3.0.0'))).toBe(true);
    expect(satisfiesConstraint('2.3.4-rc1', parseConstraint('>=2.3.4'))).toBe(false); // pre-release sorts before
    expect(satisfiesConstraint('1.0.0-rc.10', parseConstraint('>=1.0.0-rc.9'))).toBe(true); // was false with string comparison
    expect(satisfiesConstraint('1.0.0-rc.9', parseConstraint('>=1.0.0-rc.10'))).toBe(false);
    expect(satisfiesConstraint('1.2.0', parseConstraint('== 1.2.0'))).toBe(true);
    expect(satisfiesConstraint('v1.2.0', parseConstraint('1.2.0'))).toBeUndefined(); // blang's Parse: no "v"
    expect(satisfiesConstraint('1:2.3.4', parseConstraint('>0.0.0'))).toBeUndefined();
  });
});
