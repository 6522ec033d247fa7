import type { Origin, PathSeg, ValueNode } from './source.js';

/**
 * Kitchen's merge rule (`rmerge`): maps merge key by key, recursively; any
 * other value (lists included) from the overriding side replaces the base.
 * Nodes keep their origin, so the merged tree still knows which file and
 * line set each value.
 */
export function mergeNodes(base: ValueNode | undefined, over: ValueNode | undefined): ValueNode | undefined {
  if (over === undefined) return base;
  if (base === undefined) return over;
  if (base.kind === 'map' && over.kind === 'map') {
    const entries = new Map(base.entries);
    for (const [k, v] of over.entries) entries.set(k, mergeNodes(base.entries.get(k), v)!);
    return { kind: 'map', origin: over.origin, entries };
  }
  return over;
}

/** Merges in order: later layers win. */
export function mergeAll(layers: (ValueNode | undefined)[]): ValueNode | undefined {
  return layers.reduce<ValueNode | undefined>((acc, l) => mergeNodes(acc, l), undefined);
}

/** The plain JavaScript value of a node. */
export function toPlain(node: ValueNode | undefined): unknown {
  if (node === undefined) return undefined;
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'seq') return node.items.map(toPlain);
  const o: Record<string, unknown> = {};
  for (const [k, v] of node.entries) o[k] = toPlain(v);
  return o;
}

export function child(node: ValueNode | undefined, key: PathSeg): ValueNode | undefined {
  if (node === undefined) return undefined;
  if (node.kind === 'map') return node.entries.get(String(key));
  if (node.kind === 'seq' && typeof key === 'number') return node.items[key];
  return undefined;
}

/** True for an absent key and for an empty YAML value (`suites:` with nothing after it). */
export function isNothing(node: ValueNode | undefined): boolean {
  return node === undefined || (node.kind === 'scalar' && (node.value === null || node.value === undefined));
}

/**
 * Where the value at `path` (relative to `node`) was written: the origin of
 * the deepest node that exists along the path, extended by the rest of it.
 */
export function originAt(node: ValueNode, path: readonly PathSeg[]): Origin {
  let cur = node;
  let i = 0;
  for (; i < path.length; i++) {
    const next = child(cur, path[i]!);
    if (!next) break;
    cur = next;
  }
  return { source: cur.origin.source, path: [...cur.origin.path, ...path.slice(i)] };
}

/** A node standing for `{ [key]: value }` written where `at` was written. */
export function wrapInMap(key: string, value: ValueNode): ValueNode {
  return { kind: 'map', origin: value.origin, entries: new Map([[key, value]]) };
}

/** `platforms[1].driver.region` */
export function formatPath(path: readonly PathSeg[]): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s === '' ? seg : `.${seg}`;
  return s;
}
