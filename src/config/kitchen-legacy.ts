import { isMap, isPair, isSeq, type Node as YamlNode } from 'yaml';
import { didYouMean } from './did-you-mean.js';
import { documentSchema, platformSchema, suiteSchema } from './document-schema.js';
import { kitchenOptions } from './kitchen-plugins.js';
import { isNothing, mergeNodes, wrapInMap } from './merge.js';
import { problemAt, type ConfigNote } from './problems.js';
import type { ValueNode } from './source.js';
import { knownKeys } from './zod-problems.js';

/**
 * What Test Kitchen's data munger (lib/kitchen/data_munger.rb) does to the
 * merged document before it builds instances, done here to the merged tree,
 * in place, before the document schema sees it:
 * - `driver_config:` and `driver_plugin:` become the `driver:` block
 *   (convert_legacy_driver_format: the driver block's own keys win);
 * - `driver.require_chef_omnibus` goes to the provisioner in Kitchen, where
 *   only Chef reads it: dropped with a note;
 * - `busser:` becomes the verifier `{name: busser, ...}` with the level's
 *   `verifier:` over it (convert_legacy_busser_format);
 * - the Chef keys Kitchen moves from suites and platforms into the
 *   provisioner (`named_run_list`, `policy_group`, the `*_path` keys but
 *   `data_bags_path`): dropped with a note, nothing here reads them;
 * - every other key Kitchen does not read at that level (Kitchen ignores it
 *   silently): a note for the ones real files carry on purpose (a top-level
 *   key that only holds YAML anchors, `x-*`, a platform's `image_id`, ...),
 *   a warning with "did you mean" for the rest; dropped either way, so that
 *   one stray key never stops `list`.
 * hallmark's own blocks (`image`, `distribute`, `publish`) are not touched:
 * their schemas stay strict.
 */
export function convertKitchenLegacy(root: ValueNode): ConfigNote[] {
  if (root.kind !== 'map') return [];
  const notes: ConfigNote[] = [];
  type MapNode = ValueNode & { kind: 'map' };
  const levels: [MapNode, Level][] = [[root, 'top']];
  for (const [key, level] of [['platforms', 'platform'], ['suites', 'suite']] as const) {
    const seq = root.entries.get(key);
    if (seq?.kind === 'seq') for (const item of seq.items) if (item.kind === 'map') levels.push([item as MapNode, level]);
  }
  for (const [node, level] of levels) convertLevel(node, level, notes);
  return notes;
}

type Level = 'top' | 'platform' | 'suite';

/** The Chef keys data_munger moves from a suite or platform into its provisioner (move_chef_data_to_provisioner, convert_legacy_chef_paths_format). */
const CHEF_MOVED = ['named_run_list', 'policy_group', 'data_path', 'encrypted_data_bag_secret_key_path', 'environments_path', 'nodes_path', 'roles_path'];

/** Keys real files carry where Kitchen reads nothing, and why they are there. */
const IGNORED_ON_PURPOSE: Record<Level, Record<string, string>> = {
  top: {},
  platform: {
    image_id: 'driver',
    block_device_mappings: 'driver',
    cache: 'driver',
  },
  suite: {
    manifest: 'provisioner',
    chef_client: 'provisioner',
  },
};

const KNOWN: Record<Level, Set<string>> = {
  top: new Set(knownKeys(documentSchema, [])),
  platform: new Set(knownKeys(platformSchema, [])),
  suite: new Set(knownKeys(suiteSchema, [])),
};

function convertLevel(node: ValueNode & { kind: 'map' }, level: Level, notes: ConfigNote[]): void {
  const e = node.entries;
  const note = (key: string, message: string, hint?: string, at: ValueNode = node, sub: (string | number)[] = [key]) =>
    notes.push({ level: 'note', ...problemAt(at, sub, { message, ...(hint ? { hint } : {}) }, true) });
  const asMap = (v: ValueNode | undefined, field: string): ValueNode | undefined =>
    isNothing(v) ? undefined : v!.kind === 'scalar' && typeof v!.value === 'string' ? wrapInMap(field, v!) : v;

  const config = e.get('driver_config');
  if (config !== undefined) {
    if (config.kind === 'map') e.set('driver', mergeNodes(config, asMap(e.get('driver'), 'name'))!);
    e.delete('driver_config');
    note('driver_config', "Kitchen's legacy spelling of driver: read as the driver block, as Test Kitchen does", undefined, config, []);
  }
  const plugin = e.get('driver_plugin');
  if (plugin !== undefined) {
    if (!isNothing(plugin)) e.set('driver', mergeNodes(wrapInMap('name', plugin), asMap(e.get('driver'), 'name'))!);
    e.delete('driver_plugin');
    note('driver_plugin', "Kitchen's legacy spelling of driver.name: read as the driver's name, as Test Kitchen does", undefined, plugin, []);
  }
  const driver = e.get('driver');
  const omnibus = driver?.kind === 'map' ? driver.entries.get('require_chef_omnibus') : undefined;
  if (driver?.kind === 'map' && omnibus !== undefined) {
    const entries = new Map(driver.entries);
    entries.delete('require_chef_omnibus');
    e.set('driver', { ...driver, entries });
    note('require_chef_omnibus', 'Test Kitchen moves it to the provisioner, where only Chef reads it: accepted; no effect in hallmark', undefined, omnibus, []);
  }
  const busser = e.get('busser');
  if (busser !== undefined) {
    e.delete('busser');
    let b = isNothing(busser) ? undefined : busser.kind === 'scalar' ? wrapInMap('version', busser) : busser;
    if (b?.kind === 'map' && !b.entries.has('name')) {
      b = { ...b, entries: new Map([['name', { kind: 'scalar', origin: { ...b.origin, path: [...b.origin.path, 'name'] }, value: 'busser' }], ...b.entries]) };
    }
    if (b) e.set('verifier', mergeNodes(b, asMap(e.get('verifier'), 'name'))!);
    const verifier = e.get('verifier');
    const isBusser = verifier?.kind === 'map' && verifier.entries.get('name')?.kind === 'scalar' && (verifier.entries.get('name') as { value: unknown }).value === 'busser';
    note(
      'busser',
      "Kitchen's legacy busser block: read as the verifier {name: busser, ...} under this level's verifier:, as Test Kitchen does",
      isBusser ? 'hallmark does not run busser: set verifier: (spec, inspec, testinfra or shell)' : undefined,
      busser,
      [],
    );
  }

  for (const [key, value] of [...e]) {
    if (KNOWN[level].has(key)) continue;
    e.delete(key);
    if (level !== 'top' && CHEF_MOVED.includes(key)) {
      note(key, 'a Chef key Test Kitchen moves into the provisioner: accepted; no effect in hallmark', undefined, value, []);
    } else if (level === 'top' && (key.startsWith('x-') || holdsAnchorsOnly(value))) {
      note(key, 'holds YAML anchors only: ignored, as Test Kitchen ignores it', undefined, value, []);
    } else if (Object.hasOwn(IGNORED_ON_PURPOSE[level], key)) {
      const block = IGNORED_ON_PURPOSE[level][key]!;
      note(key, `Test Kitchen reads nothing here (only inside ${block}:), and neither does hallmark: ignored`, `to set it, write ${block}: { ${key}: ... }`, value, []);
    } else {
      const close = didYouMean(key, [...KNOWN[level]]);
      const elsewhere = pluginOptionOf(key);
      const hint = close.length > 0 ? `did you mean: ${close.join(', ')}` : elsewhere ? `did you mean: ${elsewhere}.${key}` : undefined;
      notes.push({ level: 'warning', ...problemAt(value, [], { message: `unknown key "${key}": Test Kitchen ignores it here, and so does hallmark`, ...(hint ? { hint } : {}) }, true) });
    }
  }
}

/** The plugin block (`driver`, ...) whose Kitchen options include `key`, when one does. */
function pluginOptionOf(key: string): string | undefined {
  const where: [Parameters<typeof kitchenOptions>[0], string][] = [
    ['driver', 'ec2'],
    ['transport', 'ssh'],
    ['provisioner', 'ansible_playbook'],
    ['verifier', 'inspec'],
  ];
  return where.find(([kind, name]) => kitchenOptions(kind, name)?.options.includes(key))?.[0];
}

/** True when the key's value in its file is an anchored node, or a map or list of anchored nodes only. */
function holdsAnchorsOnly(value: ValueNode): boolean {
  const yn = value.origin.source.doc.getIn(value.origin.path, true) as YamlNode | undefined;
  if (!yn || typeof yn !== 'object') return false;
  if (yn.anchor) return true;
  if (isMap(yn)) return yn.items.length > 0 && yn.items.every((p) => isPair(p) && Boolean((p.value as YamlNode | null)?.anchor));
  if (isSeq(yn)) return yn.items.length > 0 && yn.items.every((i) => Boolean((i as YamlNode | null)?.anchor));
  return false;
}
