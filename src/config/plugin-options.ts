import type { z } from 'zod';
import type { ConfigProblem } from '../kernel/errors.js';
import type { PluginKind } from '../plugins.js';
import { didYouMean } from './did-you-mean.js';
import { kitchenOptions } from './kitchen-plugins.js';
import { isNothing } from './merge.js';
import { problemAt, type ConfigNote } from './problems.js';
import type { ValueNode } from './source.js';
import { knownKeys } from './zod-problems.js';

/**
 * Kitchen hands every key of a plugin block to its plugin, which reads the
 * ones it knows. hallmark does the same before its plugin's schema sees the
 * block, key by key:
 * - `key: null` (or empty) means unset, as kitchen-ec2 reads its nil defaults:
 *   dropped, so hallmark's default applies;
 * - an option hallmark's plugin takes: kept (with a note when it is listed as
 *   having no effect);
 * - an option of the Kitchen plugin that hallmark does not implement: a note
 *   "accepted; no effect in hallmark", dropped;
 * - an option the Kitchen plugin itself refuses (kitchen-ec2's removed keys):
 *   a problem, with what to use instead;
 * - anything else: a warning, with "did you mean" when a known key is close,
 *   dropped (an error only under `validate --strict`).
 */
export interface ScreenedBlock {
  node: ValueNode;
  notes: ConfigNote[];
  problems: ConfigProblem[];
}

export function screenPluginOptions(kind: PluginKind, name: string, node: ValueNode, schema: z.ZodType): ScreenedBlock {
  if (node.kind !== 'map') return { node, notes: [], problems: [] };
  const own = new Set(knownKeys(schema, []));
  const kitchen = kitchenOptions(kind, name);
  const kitchenKeys = new Set(kitchen?.options ?? []);
  const noEffect = new Set(kitchen?.noEffect ?? []);
  const notes: ConfigNote[] = [];
  const problems: ConfigProblem[] = [];
  const entries = new Map<string, ValueNode>();
  const note = (key: string, level: ConfigNote['level'], message: string, hint?: string) =>
    notes.push({ ...problemAt(node, [key], { message, ...(hint ? { hint } : {}) }, true), level });

  for (const [key, value] of node.entries) {
    if (key === 'name') {
      entries.set(key, value);
      continue;
    }
    if (isNothing(value)) continue;
    const instead = kitchen?.removed && Object.hasOwn(kitchen.removed, key) ? kitchen.removed[key] : undefined;
    if (instead !== undefined) {
      problems.push(problemAt(node, [key], { message: `${kitchen!.plugin} no longer takes "${key}"`, hint: `use ${instead}` }, true));
      continue;
    }
    if (own.has(key)) {
      entries.set(key, value);
      if (noEffect.has(key)) note(key, 'note', `${kitchen!.plugin} option "${key}": accepted; no effect in hallmark`);
      continue;
    }
    if (kitchenKeys.has(key)) {
      note(key, 'note', `${kitchen!.plugin} option "${key}": accepted; no effect in hallmark`);
      continue;
    }
    const close = didYouMean(key, [...own, ...kitchenKeys].filter((k) => k !== 'name'));
    note(
      key,
      'warning',
      `unknown key "${key}": no ${name} ${kind} option${kitchen ? ` (neither hallmark's nor ${kitchen.plugin}'s)` : ''}; ignored`,
      close.length > 0 ? `did you mean: ${close.join(', ')}` : undefined,
    );
  }
  return { node: { ...node, entries }, notes, problems };
}
