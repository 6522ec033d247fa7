import type { ConfigProblem } from '../kernel/errors.js';
import type { InstanceConfig } from './types.js';
import { suggestionHint } from './did-you-mean.js';
import { child, isNothing, mergeAll, toPlain } from './merge.js';
import { PLUGIN_KINDS, resolvePluginBlock } from './plugin-blocks.js';
import { problemAt, ProblemSet, type ProblemFields } from './problems.js';
import { checkImageName, checkInstanceRules, checkSectionRules } from './rules.js';
import { SECTION_NAMES, SECTION_SCHEMAS } from './sections.js';
import type { ValueNode } from './source.js';
import type { InstanceEntry } from './index.js';
import { validateNode } from './zod-problems.js';

/**
 * The instance matrix: every suite x platform pair the suite's
 * `includes`/`excludes` allow (Kitchen's `filter_instances`: `includes` wins
 * when both are given), named as Kitchen names them, each with its merged
 * blocks. File-level problems (sections, names) are returned apart from the
 * per-instance ones (plugin blocks).
 */

/** Kitchen's Instance.name_for: `_`, `,` and `/` become `-`; dots are dropped. */
export function instanceName(suite: string, platform: string): string {
  return `${suite}-${platform}`.replace(/[_,/]/g, '-').replace(/\./g, '');
}

interface Entry {
  name: string;
  node?: ValueNode;
  includes: string[];
  excludes: string[];
  index: number;
}

const list = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function entries(root: ValueNode, key: 'platforms' | 'suites'): Entry[] {
  const seq = child(root, key);
  if (!seq || seq.kind !== 'seq') return [];
  return seq.items.map((node, index) => {
    const o = toPlain(node) as Record<string, unknown>;
    return { name: String(o.name), node, includes: list(o.includes), excludes: list(o.excludes), index };
  });
}

export interface BuiltInstances {
  instances: InstanceEntry[];
  problems: ConfigProblem[];
}

export function buildInstances(root: ValueNode, file: string, projectDir: string): BuiltInstances {
  const problems = new ProblemSet();
  const addAt = (node: ValueNode, sub: (string | number)[], p: ProblemFields) => problems.add(problemAt(node, sub, p));

  const platforms = entries(root, 'platforms');
  let suites = entries(root, 'suites');
  // Many kitchen.yml files in the wild have no suites: one suite named `default`.
  if (suites.length === 0) suites = [{ name: 'default', includes: [], excludes: [], index: -1 }];

  for (const [what, list] of [['platform', platforms], ['suite', suites]] as const) {
    const names = new Set<string>();
    for (const e of list) {
      if (names.has(e.name) && e.node) addAt(e.node, ['name'], { message: `duplicate ${what} name "${e.name}"` });
      names.add(e.name);
    }
  }
  const platformNames = platforms.map((p) => p.name);
  for (const s of suites) {
    for (const key of ['includes', 'excludes'] as const) {
      s[key].forEach((name, i) => {
        if (platformNames.includes(name) || !s.node) return;
        const sub = Array.isArray(toPlain(child(s.node, key))) ? [key, i] : [key];
        addAt(s.node, sub, {
          message: `${key} names a platform that does not exist`,
          expected: `one of ${platformNames.join(', ')}`,
          found: JSON.stringify(name),
          hint: suggestionHint(name, platformNames),
        });
      });
    }
  }

  const instances: InstanceEntry[] = [];
  const byName = new Map<string, string>();
  for (const suite of suites) {
    for (const platform of platforms) {
      if (suite.includes.length > 0 ? !suite.includes.includes(platform.name) : suite.excludes.includes(platform.name)) continue;
      const name = instanceName(suite.name, platform.name);
      const other = byName.get(name);
      if (other !== undefined && platform.node) {
        addAt(platform.node, ['name'], {
          message: `instance name "${name}" is also the name of ${other}`,
          hint: 'Kitchen drops "." and turns "_", "," and "/" into "-" in instance names; rename a platform or suite',
        });
      }
      byName.set(name, `suite "${suite.name}" on platform "${platform.name}"`);
      instances.push(buildOne(root, suite, platform, name, file, projectDir, problems));
    }
  }
  return { instances, problems: problems.list };
}

function buildOne(
  root: ValueNode,
  suite: Entry,
  platform: Entry,
  name: string,
  file: string,
  projectDir: string,
  fileProblems: ProblemSet,
): InstanceEntry {
  const levels = [root, platform.node, suite.node];
  const problems: ConfigProblem[] = [];
  const blocks = Object.fromEntries(
    PLUGIN_KINDS.map((kind) => {
      const r = resolvePluginBlock(kind, root, levels);
      problems.push(...r.problems);
      return [kind, r.block];
    }),
  ) as Pick<InstanceConfig, 'driver' | 'transport' | 'provisioner' | 'verifier'>;

  const sections: Record<string, unknown> = {};
  const sectionNodes: Record<string, ValueNode | undefined> = {};
  for (const section of SECTION_NAMES) {
    const merged = mergeAll(levels.map((l) => child(l, section)).filter((n) => !isNothing(n)));
    sectionNodes[section] = merged;
    const r = validateNode(SECTION_SCHEMAS[section], merged, { source: root.origin.source, path: [section] }, toPlain(merged) ?? {});
    // Each occurrence was checked where it is written; the merged value can only fail rules that span keys.
    fileProblems.add(...r.problems);
    sections[section] = r.data;
    if (merged && r.data) fileProblems.add(...checkSectionRules(section, r.data, merged));
  }
  problems.push(...checkInstanceRules(name, blocks.driver, sections.publish as InstanceConfig['publish'] | undefined, sectionNodes.publish));

  const plain = (n: ValueNode | undefined, key: string) => toPlain(child(n, key)) ?? undefined;
  const lifecycle = toPlain(mergeAll(levels.map((l) => child(l, 'lifecycle')))) as Record<string, unknown> | null | undefined;
  const attributes = toPlain(mergeAll([platform.node, suite.node].map((l) => child(l, 'attributes')))) as Record<string, unknown> | null | undefined;
  const runList = [...list(plain(platform.node, 'run_list')), ...list(plain(suite.node, 'run_list'))];
  const pick = (key: string) => (plain(suite.node, key) ?? plain(platform.node, key)) as string | null | undefined;

  const config: InstanceConfig = {
    name,
    suite: suite.name,
    platform: platform.name,
    ...blocks,
    image: sections.image as InstanceConfig['image'],
    distribute: sections.distribute as InstanceConfig['distribute'],
    publish: sections.publish as InstanceConfig['publish'],
    ...(lifecycle ? { lifecycle } : {}),
    ...(attributes ? { attributes } : {}),
    ...(runList.length > 0 ? { run_list: runList } : {}),
    ...(pick('data_bags_path') ? { data_bags_path: pick('data_bags_path')! } : {}),
    ...(pick('os_type') ? { os_type: pick('os_type')! } : {}),
    ...(pick('shell_type') ? { shell_type: pick('shell_type')! } : {}),
    file,
    projectDir,
  };
  // A template the schema refused has no image section to render.
  if (config.image) problems.push(...checkImageName(config, sectionNodes.image, platform.node));
  return { config, problems };
}
