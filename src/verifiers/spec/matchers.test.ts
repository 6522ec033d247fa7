import { describe, expect, test } from 'vitest';
import { compileMatcher, MatcherSyntaxError } from './matchers.js';
import { compilePatterns } from './patterns.js';
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
    [{ 'have-key-with-value': { a: { gt: 0 } } }, { a: 1 }, true],
    [{ 'have-key-with-value': { a: 2 } }, { a: 1 }, false],
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
    [{ le: 41 }, 'not a number', false],
    [{ 'be-numerically': ['>=', 3] }, 3, true],
    [{ 'be-numerically': '< 3' }, 3, false],
    [{ 'semver-constraint': '>1.0.0 <2.0.0 !=1.5.0' }, ['1.0.1', '1.9.9'], true],
    [{ 'semver-constraint': '>1.0.0 <2.0.0 !=1.5.0' }, ['1.0.1', '1.5.0'], false],
    [{ 'semver-constraint': '>5.0.0 || <1.5.0' }, '1.0.1', true],
    [{ 'semver-constraint': '>=9.0' }, ['9.1-1'], true], // dpkg version, tolerant parse
    [{ not: 'FAIL' }, 'PASS', true],
    [{ not: 'FAIL' }, 'FAIL', false],
    [{ and: [{ 'have-prefix': '4' }, { 'have-suffix': '2' }] }, 42, true],
    [{ and: [{ 'have-prefix': '4' }, { 'have-suffix': '3' }] }, 42, false],
    [{ or: ['0600', '0640'] }, '0640', true],
    [{ or: ['0600', '0640'] }, '0644', false],
  ])('%j against %j is %s', (e, a, r) => {
    expect(ok(e, a)).toBe(r);
  });

  test('unknown matchers and bad arguments are rejected at compile time', () => {
    expect(() => compileMatcher({ 'have-prefx': 'a' })).toThrow(/unknown matcher "have-prefx" \(did you mean "have-prefix"\?\)/);
    expect(() => compileMatcher({ gt: 'x' })).toThrow(MatcherSyntaxError);
    expect(() => compileMatcher({ 'match-regexp': '(' })).toThrow(/invalid regular expression/);
    expect(() => compileMatcher({ a: 1, b: 2 })).toThrow(/exactly one key/);
    expect(() => compileMatcher(null)).toThrow(/missing expectation/);
    expect(() => compileMatcher({ 'semver-constraint': '>=x.y' })).toThrow(/invalid version/);
  });

  test('descriptions say what was expected', () => {
    expect(compileMatcher({ not: { 'contain-element': 'x' } }).describe()).toBe('not contain element equal "x"');
    expect(compileMatcher('0644').describe()).toBe('equal "0644"');
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
    [['\\!bang'], true],
    ['foo', true], // a single string is one pattern
    [{ 'contain-element': 'foo bar' }, true], // matcher map over lines
    [{ not: { 'contain-element': { 'match-regexp': '^x' } } }, true],
  ])('%j', (p, r) => {
    expect(compilePatterns(p).match(text)).toBe(r);
  });

  test('explains which patterns failed', () => {
    const m = compilePatterns(['root', 'nobody', '!foo']);
    expect(m.explain!(text)).toBe('not found: ["nobody"]; found but negated: ["!foo"]');
  });
});

describe('semver', () => {
  test('ranges', () => {
    expect(satisfiesConstraint('1:2.3.4-1+deb12u1', parseConstraint('>=2.3 <3'))).toBe(true);
    expect(satisfiesConstraint('2.3.4-rc1', parseConstraint('>=2.3.4'))).toBe(false); // pre-release sorts before
    expect(satisfiesConstraint('v1.2', parseConstraint('= 1.2.0'))).toBe(true);
    expect(satisfiesConstraint('garbage', parseConstraint('>0'))).toBe(false);
  });
});
