import { describe, expect, it } from 'vitest';
import { HallmarkError } from '../kernel/errors.js';
import { parameterNameProblem, renderParameterName, sharedParameter } from './parameter-name.js';
import { publishSchema } from './sections.js';

const vars = { suite: 'web', platform: 'ubuntu-22.04', instance: 'web-ubuntu-2204' };

describe('publish.ssm_parameter names', () => {
  it('admits Parameter Store names and paths, with {{suite}}, {{platform}}, {{instance}}', () => {
    for (const ok of ['/golden-images/web/latest', 'golden_web.latest', '/golden/{{suite}}/{{ platform }}/latest', '/a/{{instance}}']) {
      expect(parameterNameProblem(ok), ok).toBeUndefined();
      expect(publishSchema.safeParse({ ssm_parameter: ok }).success, ok).toBe(true);
    }
    expect(renderParameterName('/golden/{{suite}}/{{ platform }}/latest', vars)).toBe('/golden/web/ubuntu-22.04/latest');
    expect(publishSchema.parse({}).ssm_parameter).toBeUndefined();
  });

  it('refuses what Parameter Store refuses, and per-build placeholders, saying what is expected', () => {
    const cases: [string, RegExp][] = [
      ['/golden/{{timestamp}}', /only \{\{suite\}\}, \{\{platform\}\}, \{\{instance\}\}.*no \{\{build_id\}\} or \{\{timestamp\}\}/],
      ['/golden/{{build_id}}/latest', /no \{\{build_id\}\}/],
      ['/golden images/latest', /letters, digits and _ \. - \/ only/],
      ['golden/web/latest', /path starting with \//],
      ['/golden//latest', /without empty parts/],
      ['/golden/web/', /without empty parts/],
      ['/aws/service/latest', /not starting with "aws" or "ssm"/],
      ['SSM-latest', /not starting with "aws" or "ssm"/],
      [`/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`, /at most 15 levels/],
    ];
    for (const [name, expected] of cases) {
      expect(parameterNameProblem(name), name).toMatch(expected);
      const r = publishSchema.safeParse({ ssm_parameter: name });
      expect(r.success, name).toBe(false);
      expect(r.error?.issues[0]).toMatchObject({ code: 'invalid_format', path: ['ssm_parameter'] });
    }
  });

  it('a template that renders into a bad name (a platform with a space) fails at build time with the name it gave', () => {
    const err = (() => {
      try {
        return renderParameterName('/golden/{{platform}}', { ...vars, platform: 'ubuntu 22' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(HallmarkError);
    expect((err as HallmarkError).message).toContain('"/golden/ubuntu 22"');
    expect((err as HallmarkError).hint).toMatch(/letters, digits/);
  });
});

describe('sharedParameter: two instances of one build writing one parameter in one region', () => {
  const inst = (name: string, platform: string, ssm: string | undefined, region?: string, regions: string[] = []) => ({
    name,
    suite: 'default',
    platform,
    driver: { name: 'ec2', ...(region ? { region } : {}) },
    distribute: { regions } as never,
    publish: { ssm_parameter: ssm } as never,
  });

  it('finds the pair and the region, home or distributed', () => {
    expect(sharedParameter([inst('a', 'a', '/p', 'us-east-1'), inst('b', 'b', '/p', 'us-east-1')])).toEqual({ name: '/p', region: 'us-east-1', instances: ['a', 'b'] });
    expect(sharedParameter([inst('a', 'a', '/p', 'us-east-1', ['eu-west-1']), inst('b', 'b', '/p', 'eu-central-1', ['eu-west-1'])])).toEqual({
      name: '/p',
      region: 'eu-west-1',
      instances: ['a', 'b'],
    });
    // No region option: both use the default region.
    expect(sharedParameter([inst('a', 'a', '/p'), inst('b', 'b', '/p')])?.region).toBe('the default region');
  });

  it('is fine with names that differ after rendering, disjoint regions, or one instance alone', () => {
    expect(sharedParameter([inst('a', 'a', '/p/{{platform}}', 'us-east-1'), inst('b', 'b', '/p/{{platform}}', 'us-east-1')])).toBeUndefined();
    expect(sharedParameter([inst('a', 'a', '/p', 'us-east-1'), inst('b', 'b', '/p', 'eu-west-1')])).toBeUndefined();
    expect(sharedParameter([inst('a', 'a', '/p', 'us-east-1', ['us-east-1'])])).toBeUndefined();
    expect(sharedParameter([inst('a', 'a', undefined, 'us-east-1'), inst('b', 'b', undefined, 'us-east-1')])).toBeUndefined();
  });
});
