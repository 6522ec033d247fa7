import type { ConfigProblem } from '../kernel/errors.js';
import type { InstanceConfig } from './types.js';
import { suggestionHint } from './did-you-mean.js';
import { child, isNothing, mergeAll, toPlain } from './merge.js';
import { PLUGIN_KINDS, resolvePluginBlock } from './plugin-blocks.js';
import { platformFilter, type PlatformFilter } from './platform-filter.js';
import { problemAt, ProblemSet, type ConfigNote, type ProblemFields } from './problems.js';
import { checkDistributeRules } from './distribute-rules.js';
import { checkImageName, checkInstanceRules, checkLifecycleRules, checkSectionRules } from './rules.js';
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

/**
 * A platform or suite name as Ruby prints it (`"#{name}"`): YAML `8.0` is a
 * Float there and prints as "8.0", not "8" (so the instance is `default-80`).
 */
function nameOf(node: ValueNode | undefined): string {
  const n = child(node, 'name');
  if (n?.kind === 'scalar' && typeof n.value === 'number' && Number.isInteger(n.value) && n.raw !== undefined && /[.eE]/.test(n.raw) && !/^0x/i.test(n.raw)) {
    return `${n.value}.0`;
  }
  return String(toPlain(n));
}

function entries(root: ValueNode, key: 'platforms' | 'suites'): Entry[] {
  const seq = child(root, key);
  if (!seq || seq.kind !== 'seq') return [];
  // An entry with no name is a file-level problem already; the others are still built (to report their problems too).
  return seq.items.flatMap((node, index) => {
    const o = toPlain(node) as Record<string, unknown> | null;
    if (o === null || typeof o !== 'object' || (typeof o.name !== 'string' && typeof o.name !== 'number')) return [];
    return [{ name: nameOf(node), node, includes: list(o.includes), excludes: list(o.excludes), index }];
  });
}

export interface BuiltInstances {
  instances: InstanceEntry[];
  problems: ConfigProblem[];
  notes: ConfigNote[];
}

export function buildInstances(root: ValueNode, file: string, projectDir: string): BuiltInstances {
  const problems = new ProblemSet();
  const notes: ConfigNote[] = [];
  const addAt = (node: ValueNode, sub: (string | number)[], p: ProblemFields) => problems.add(problemAt(node, sub, p));
  const noteAt = (node: ValueNode, sub: (string | number)[], p: ProblemFields) => notes.push({ level: 'note', ...problemAt(node, sub, p) });

  const platforms = entries(root, 'platforms');
  let suites = entries(root, 'suites');
  if (suites.length === 0) {
    // Kitchen lists no instances for such a file; hallmark's documented default is one suite named `default`.
    suites = [{ name: 'default', includes: [], excludes: [], index: -1 }];
    if (platforms.length > 0) {
      notes.push({ level: 'note', file, path: 'suites', message: 'not given: using one suite named "default" (hallmark\'s default; Test Kitchen would list no instances)', hint: 'add `suites: [{name: default}]` to make it explicit' });
    }
  }
  if (platforms.length === 0) notes.push({ level: 'note', file, path: 'platforms', message: 'not given: there are no instances (as in Test Kitchen)' });

  for (const [what, list] of [['platform', platforms], ['suite', suites]] as const) {
    const names = new Set<string>();
    for (const e of list) {
      if (names.has(e.name) && e.node) addAt(e.node, ['name'], { message: `duplicate ${what} name "${e.name}"` });
      names.add(e.name);
    }
  }
  const platformNames = platforms.map((p) => p.name);
  // Kitchen's filter_instances: a suite's includes (when not empty) pick its platforms, else its excludes drop some.
  const filters = new Map<Entry, { includes: PlatformFilter[]; excludes: PlatformFilter[] }>();
  for (const s of suites) {
    const f = { includes: [] as PlatformFilter[], excludes: [] as PlatformFilter[] };
    filters.set(s, f);
    for (const key of ['includes', 'excludes'] as const) {
      s[key].forEach((text, i) => {
        const sub = s.node && Array.isArray(toPlain(child(s.node, key))) ? [key, i] : [key];
        let filter: PlatformFilter;
        try {
          filter = platformFilter(text);
        } catch (err) {
          if (s.node) addAt(s.node, sub, { message: `${key} has an invalid regular expression`, found: text, expected: 'a regular expression between slashes, such as /^ubuntu-/', hint: (err as Error).message });
          return;
        }
        f[key].push(filter);
        if (!s.node || platformNames.some((p) => filter.matches(p))) return;
        // Kitchen ignores it; a note, because it is often a typo.
        noteAt(s.node, sub, {
          message: `${key} ${filter.regex ? 'matches no platform' : 'names a platform that does not exist'}: ignored, as Test Kitchen does`,
          found: JSON.stringify(text),
          expected: platformNames.length > 0 ? `one of ${platformNames.join(', ')}` : 'a platform name',
          ...(filter.regex ? {} : { hint: suggestionHint(text, platformNames) }),
        });
      });
    }
  }

  const instances: InstanceEntry[] = [];
  const byName = new Map<string, string>();
  for (const suite of suites) {
    const f = filters.get(suite)!;
    for (const platform of platforms) {
      const wanted = f.includes.length > 0 ? f.includes.some((x) => x.matches(platform.name)) : !f.excludes.some((x) => x.matches(platform.name));
      if (!wanted) continue;
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
  return { instances, problems: problems.list, notes };
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
  const notes: ConfigNote[] = [];
  const blocks = Object.fromEntries(
    PLUGIN_KINDS.map((kind) => {
      const r = resolvePluginBlock(kind, root, levels);
      problems.push(...r.problems);
      notes.push(...r.notes);
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
  problems.push(
    ...checkLifecycleRules(
      name,
      blocks.driver,
      { image: sections.image as InstanceConfig['image'] | undefined, distribute: sections.distribute as InstanceConfig['distribute'] | undefined },
      { image: sectionNodes.image, distribute: sectionNodes.distribute },
    ),
  );
  const distribution = checkDistributeRules(name, blocks.driver, sections.distribute as InstanceConfig['distribute'] | undefined, sectionNodes.distribute);
  problems.push(...distribution.problems);
  notes.push(...distribution.notes);

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
  return { config, problems, notes };
}
