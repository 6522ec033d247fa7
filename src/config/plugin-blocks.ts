import type { ConfigProblem } from '../kernel/errors.js';
import type { PluginBlock } from './types.js';
import type { ConfigNote } from './problems.js';
import { getPluginDef, pluginNames, type PluginKind } from '../plugins.js';
import { suggestionHint } from './did-you-mean.js';
import { isKitchenPluginNotRun, notRunMessage, pluginAlias } from './kitchen-plugins.js';
import { screenPluginOptions } from './plugin-options.js';
import { child, formatPath, isNothing, mergeAll, mergeNodes, originAt, toPlain, wrapInMap } from './merge.js';
import type { ValueNode } from './source.js';
import { validateNode } from './zod-problems.js';

/**
 * The driver/transport/provisioner/verifier block of one instance: Kitchen's
 * defaults, then the top level, the platform and the suite, maps merged
 * (data_munger's `merged_data_for`). Its problems concern this instance only.
 */
export const PLUGIN_KINDS: readonly PluginKind[] = ['driver', 'transport', 'provisioner', 'verifier'];

export const DEFAULT_PLUGINS: Record<PluginKind, string> = {
  driver: 'qemu',
  transport: 'ssh',
  provisioner: 'shell',
  verifier: 'spec',
};

/**
 * A level's block as a map node: `driver: ec2` means `{ name: ec2 }`, an
 * empty value means nothing, and the legacy `driver_config:` is merged
 * under `driver:` (Kitchen's convert_legacy_driver_format).
 */
export function levelBlock(level: ValueNode | undefined, kind: PluginKind): ValueNode | undefined {
  const norm = (n: ValueNode | undefined) =>
    isNothing(n) ? undefined : n!.kind === 'scalar' && typeof n!.value === 'string' ? wrapInMap('name', n!) : n;
  const block = norm(child(level, kind));
  return kind === 'driver' ? mergeNodes(norm(child(level, 'driver_config')), block) : block;
}

export interface ResolvedBlock {
  block: PluginBlock;
  problems: ConfigProblem[];
  /** Warnings and notes about the block's keys (see plugin-options.ts). */
  notes: ConfigNote[];
}

/**
 * `levels` are the top-level document, the platform and the suite entries
 * (absent ones undefined); `root` is where a defaulted value points.
 */
export function resolvePluginBlock(kind: PluginKind, root: ValueNode, levels: (ValueNode | undefined)[]): ResolvedBlock {
  const defaults: ValueNode = wrapInMap('name', {
    kind: 'scalar',
    origin: { source: root.origin.source, path: [kind, 'name'] },
    value: DEFAULT_PLUGINS[kind],
  });
  let merged = mergeAll([defaults, ...levels.map((l) => levelBlock(l, kind))])!;
  const written = toPlain(child(merged, 'name'));
  const alias = typeof written === 'string' ? pluginAlias(kind, written) : undefined;
  if (alias !== undefined) merged = withName(merged, alias);
  const name = alias ?? written;
  const def = typeof name === 'string' ? getPluginDef(kind, name) : undefined;
  if (!def) {
    const block = toPlain(merged) as PluginBlock;
    const at = originAt(merged, ['name']);
    const loc = at.source.locate(at.path);
    const where = { file: at.source.file, ...(loc ?? {}), path: formatPath(at.path) };
    const runs = pluginNames(kind, { registered: true });
    if (typeof name === 'string' && isKitchenPluginNotRun(kind, name)) {
      return { block, notes: [], problems: [{ ...where, message: notRunMessage(kind, name, runs), hint: `choose one of ${runs.join(', ')} for this ${kind}` }] };
    }
    const available = pluginNames(kind);
    const guess = typeof name === 'string' ? suggestionHint(name, available) : undefined;
    const problem: ConfigProblem = {
      ...where,
      message: typeof name === 'string' ? `unknown ${kind} "${name}"` : `the ${kind} name must be a string`,
      expected: available.length > 0 ? `one of ${available.join(', ')}` : `a registered ${kind}`,
      found: JSON.stringify(name),
      ...(guess ? { hint: guess } : available.length === 0 ? { hint: `no ${kind} plugins are registered` } : {}),
    };
    return { block, notes: [], problems: [problem] };
  }
  const schema = def.schema();
  const screened = screenPluginOptions(kind, def.name, merged, schema);
  const r = validateNode(schema, screened.node, screened.node.origin);
  return { block: toPlain(screened.node) as PluginBlock, notes: screened.notes, problems: [...screened.problems, ...r.problems] };
}

/** `node` with its `name` replaced by `name` (written where the original was). */
function withName(node: ValueNode, name: string): ValueNode {
  if (node.kind !== 'map') return node;
  const old = node.entries.get('name')!;
  const entries = new Map(node.entries);
  entries.set('name', { kind: 'scalar', origin: old.origin, value: name });
  return { ...node, entries };
}
