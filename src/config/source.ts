import { isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { ConfigProblem } from '../kernel/errors.js';
import { expandErb } from './erb.js';
import type { ConfigNote } from './problems.js';
import { psychTags } from './psych-scalars.js';
import { originalOffset, TextPositions, type LineCol, type Replacement } from './text-position.js';

/**
 * One configuration file after ERB and YAML parsing: its plain value as a tree
 * of nodes that each remember where in which file they were written, so that
 * after merging a problem can still point at the line that set the value.
 */
export type PathSeg = string | number;

export interface Origin {
  source: SourceFile;
  /** Key path of the value inside its own document. */
  path: PathSeg[];
}

export type ValueNode =
  | { kind: 'map'; origin: Origin; entries: Map<string, ValueNode> }
  | { kind: 'seq'; origin: Origin; items: ValueNode[] }
  /** `raw` is the scalar's source text for numbers (keeps `012345678901` intact). */
  | { kind: 'scalar'; origin: Origin; value: unknown; raw?: string };

export class SourceFile {
  private readonly positions: TextPositions;

  constructor(
    readonly file: string,
    readonly originalText: string,
    private readonly replacements: Replacement[],
    readonly doc: Document,
  ) {
    this.positions = new TextPositions(originalText);
  }

  /** Position in the original text of an offset in the ERB-expanded text. */
  at(offset: number): LineCol {
    return this.positions.at(originalOffset(this.replacements, offset));
  }

  /**
   * Where `path` is written: the value (or, with `key`, the key of the last
   * segment). Falls back to the nearest ancestor that can be found, which is
   * where a missing key should be added and where values reached through
   * YAML aliases are written.
   */
  locate(path: readonly PathSeg[], key = false): LineCol | undefined {
    for (let n = path.length; n >= 0; n--) {
      const want = path.slice(0, n);
      const wantKey = key || n < path.length;
      const found = wantKey && n > 0 ? this.keyNode(want) : this.valueNode(want);
      if (found?.range) return this.at(found.range[0]);
      if (n > 0 && !wantKey) {
        const k = this.keyNode(want);
        if (k?.range) return this.at(k.range[0]);
      }
    }
    return undefined;
  }

  private valueNode(path: readonly PathSeg[]): YamlNode | undefined {
    if (path.length === 0) return (this.doc.contents as YamlNode | null) ?? undefined;
    const n = this.doc.getIn(path, true);
    return n && typeof n === 'object' && 'range' in (n as object) ? (n as YamlNode) : undefined;
  }

  private keyNode(path: readonly PathSeg[]): YamlNode | undefined {
    const parent = this.valueNode(path.slice(0, -1));
    const last = path[path.length - 1];
    if (!parent || !isMap(parent)) return isSeq(parent) && typeof last === 'number' ? (parent.items[last] as YamlNode) : undefined;
    for (const item of parent.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(last)) return item.key;
    }
    return undefined;
  }
}

export interface ParsedFile {
  source?: SourceFile;
  root?: ValueNode;
  problems: ConfigProblem[];
  /** Notes from ERB (an unset variable that became ""), kept even when there are problems. */
  notes: ConfigNote[];
}

/** ERB, then YAML with positions. Problems are file-level; `root` is absent when there were any. */
export function parseConfigText(file: string, text: string, env: Record<string, string | undefined>): ParsedFile {
  const erb = expandErb(file, text, env);
  const notes = erb.notes;
  if (erb.problems.length > 0) return { problems: erb.problems, notes };
  // `merge: true`: kitchen.yml files commonly share blocks with `<<: *anchor`, which Ruby's Psych supports.
  // Plain scalars resolve as Psych resolves them (`yes`/`on` are true, `0644` is octal): see psych-scalars.ts.
  const doc = parseDocument(erb.text, { merge: true, prettyErrors: false, uniqueKeys: true, customTags: psychTags });
  const source = new SourceFile(file, text, erb.replacements, doc);
  const problems: ConfigProblem[] = [];
  for (const e of doc.errors) {
    problems.push({
      file,
      ...source.at(e.pos[0]),
      path: '',
      message: `YAML syntax error: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      hint: 'check the indentation and quoting around this line',
    });
  }
  if (problems.length > 0) return { problems, notes };
  const value: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (value === null || value === undefined) return { source, root: toNode(source, {}, []), problems, notes };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return {
      problems: [{ file, line: 1, column: 1, path: '', message: 'the file must be a YAML map', expected: 'a map with platforms, suites, driver, ...', found: describeValue(value) }],
      notes,
    };
  }
  return { source, root: toNode(source, value, []), problems, notes };
}

function toNode(source: SourceFile, value: unknown, path: PathSeg[]): ValueNode {
  const origin: Origin = { source, path };
  if (Array.isArray(value)) return { kind: 'seq', origin, items: value.map((v, i) => toNode(source, v, [...path, i])) };
  if (value !== null && typeof value === 'object') {
    const entries = new Map<string, ValueNode>();
    for (const [k, v] of Object.entries(value)) entries.set(k, toNode(source, v, [...path, k]));
    return { kind: 'map', origin, entries };
  }
  if (typeof value === 'number') {
    const n = source.doc.getIn(path, true);
    const raw = isScalar(n) && typeof n.source === 'string' ? n.source : undefined;
    // Ruby's Psych (YAML 1.1) reads digits with a leading 0 and an 8 or 9 (`owner-id: 099720109477`) as a string.
    if (raw !== undefined && /^0[0-9]*[89][0-9]*$/.test(raw)) return { kind: 'scalar', origin, value: raw };
    return { kind: 'scalar', origin, value, raw };
  }
  return { kind: 'scalar', origin, value };
}

/** A short, type-first description of a value for "found ..." in problems. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 50 ? `${v.slice(0, 47)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}
