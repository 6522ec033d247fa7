import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { amiNameProblem } from '../drivers/ec2/schema.js';
import { HallmarkError } from '../kernel/errors.js';
import { buildProblems } from './build-rules.js';
import { renderImageName, sharedImageName } from './image-name.js';
import { loadProject } from './index.js';
import { imageSchema } from './sections.js';

const vars = { suite: 'web', platform: 'ubuntu-22.04', instance: 'web-ubuntu-2204', build_id: 'b-42', timestamp: '20240501T120000Z' };

describe('renderImageName', () => {
  it('fills every placeholder, whitespace in braces allowed', () => {
    expect(renderImageName('{{suite}}-{{platform}}-{{timestamp}}', vars)).toBe('web-ubuntu-22.04-20240501T120000Z');
    expect(renderImageName('golden/{{ instance }}/{{build_id}}', vars)).toBe('golden/web-ubuntu-2204/b-42');
    expect(renderImageName('fixed-name', vars)).toBe('fixed-name');
  });

  it('throws on an unknown placeholder', () => {
    expect(() => renderImageName('{{suite}}-{{date}}', vars)).toThrow(HallmarkError);
  });

  it('matches what the schema admits', () => {
    expect(imageSchema.safeParse({ name: '{{suite}}-{{ build_id }}' }).success).toBe(true);
    expect(imageSchema.safeParse({ name: '{{suite}}-{{date}}' }).success).toBe(false);
    expect(imageSchema.parse({}).name).toBe('{{suite}}-{{platform}}-{{timestamp}}');
  });
});

describe('image names AWS would refuse, found before anything is launched', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'hallmark-image-name-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function load(yml: string) {
    const dir = await mkdtemp(path.join(root, 'p-'));
    await writeFile(path.join(dir, 'hallmark.yml'), yml);
    return loadProject({ cwd: dir, env: {} });
  }
  const ec2 = (image: string, platforms: string[], suites = ['web']) =>
    `driver:\n  name: ec2\n  region: us-east-1\n  image_id: ami-0123456789abcdef0\n${image}platforms:\n${platforms.map((p) => `  - name: ${JSON.stringify(p)}\n`).join('')}suites:\n${suites.map((s) => `  - name: ${s}\n`).join('')}`;

  it('amiNameProblem: AWS CreateImage constraints (3-128 of letters, digits, space and ( ) [ ] . / - \' @ _)', () => {
    expect(amiNameProblem("golden (web) [v1.2]/x-y_z'@ 1")).toBeUndefined();
    expect(amiNameProblem('ab')).toMatch(/3 to 128 characters \(this one has 2\)/);
    expect(amiNameProblem('a'.repeat(128))).toBeUndefined();
    expect(amiNameProblem('a'.repeat(129))).toMatch(/this one has 129/);
    expect(amiNameProblem('web:ubuntu+1')).toBe('an AMI name of letters, digits, spaces and ( ) [ ] . / - \' @ _ only (not ":" "+")');
    expect(amiNameProblem('web-{{x}}')).toMatch(/not "\{" "\}"/);
  });

  it('a rendered name with a character AMIs refuse is a problem of that instance only, at the platform name', async () => {
    const p = await load(ec2('', ['ubuntu:22.04', 'debian-12']));
    const [bad, good] = p.instances;
    expect(good!.problems).toEqual([]);
    expect(bad!.problems).toHaveLength(1);
    expect(bad!.problems[0]).toMatchObject({
      path: 'platforms[0].name',
      line: 6,
      message: 'instance web-ubuntu:2204 would name its image "web-ubuntu:22.04-20260101T000000Z", which ec2 refuses',
      found: '"web-ubuntu:22.04-20260101T000000Z"',
    });
    expect(bad!.problems[0]!.expected).toContain('(not ":")');
  });

  it('a name longer than 128 characters once rendered is placed at image.name', async () => {
    const p = await load(ec2(`image:\n  name: "${'x'.repeat(100)}-{{instance}}-{{build_id}}"\n`, ['debian-12']));
    expect(p.instances[0]!.problems).toEqual([
      expect.objectContaining({ path: 'image.name', line: 6, expected: 'an AMI name of 3 to 128 characters (this one has 136)' }),
    ]);
  });

  it('drivers whose images have no such rule (qemu) are not checked', async () => {
    const p = await load(`driver:\n  name: qemu\nplatforms:\n  - name: "debian:12"\nsuites:\n  - name: web\n`);
    expect(p.instances[0]!.problems).toEqual([]);
  });

  it('two instances of one build that render one name in one region are a build problem; {{timestamp}} does not tell them apart', async () => {
    const same = await load(ec2('image:\n  name: "golden-{{timestamp}}"\n', ['ubuntu-2204', 'debian-12']));
    expect(same.instances.flatMap((i) => i.problems)).toEqual([]);
    const problems = buildProblems(same.instances.map((i) => i.config));
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'image.name',
        message: 'instances web-ubuntu-2204 and web-debian-12 would both name their image "golden-20260101T000000Z" in us-east-1',
      }),
    ]);
    expect(problems[0]!.hint).toContain('{{instance}}');
    // One instance alone, or names that differ per instance, are fine.
    expect(buildProblems(same.instances.slice(0, 1).map((i) => i.config))).toEqual([]);
    const distinct = await load(ec2('', ['ubuntu-2204', 'debian-12'], ['web', 'db']));
    expect(buildProblems(distinct.instances.map((i) => i.config))).toEqual([]);
  });

  it('the same name in different regions is fine; a copy region that overlaps is not', async () => {
    const s = await load(ec2('image:\n  name: golden-{{build_id}}\n', ['a', 'b']));
    const [a, b] = s.instances.map((i) => i.config);
    expect(sharedImageName([a!, { ...b!, driver: { ...b!.driver, region: 'eu-west-1' } }])).toBeUndefined();
    expect(sharedImageName([{ ...a!, distribute: { ...a!.distribute, regions: ['eu-west-1'] } }, { ...b!, driver: { ...b!.driver, region: 'eu-west-1' } }])).toMatchObject({
      region: 'eu-west-1',
      instances: ['web-a', 'web-b'],
    });
  });
});
