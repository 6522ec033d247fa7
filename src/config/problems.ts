import type { ConfigProblem } from '../kernel/errors.js';
import { formatPath, originAt } from './merge.js';
import type { PathSeg, ValueNode } from './source.js';

export type ProblemFields = Omit<ConfigProblem, 'file' | 'path' | 'line' | 'column'>;

/** A problem about the value at `sub` below `node`, placed where that value was written. */
export function problemAt(node: ValueNode, sub: readonly PathSeg[], fields: ProblemFields, atKey = false): ConfigProblem {
  const at = originAt(node, sub);
  const loc = at.source.locate(at.path, atKey);
  const p: ConfigProblem = { file: at.source.file, ...(loc ?? {}), path: formatPath(at.path), message: fields.message };
  if (fields.expected !== undefined) p.expected = fields.expected;
  if (fields.found !== undefined) p.found = fields.found;
  if (fields.hint !== undefined) p.hint = fields.hint;
  return p;
}

/**
 * Collects problems once each: the same top-level value is merged into every
 * instance, and its problem must be reported once, not once per instance.
 */
export class ProblemSet {
  readonly list: ConfigProblem[] = [];
  private readonly seen = new Set<string>();

  add(...problems: ConfigProblem[]): void {
    this.addAll(problems);
  }

  addAll(problems: readonly ConfigProblem[]): void {
    for (const p of problems) {
      const key = `${p.file}:${p.line}:${p.column}:${p.path}:${p.message}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.list.push(p);
    }
  }
}

/**
 * Something the loader did that the user should know about but that does
 * not stop anything: a `note` (Kitchen would do the same, or hallmark chose
 * a documented default) or a `warning` (probably a mistake). Shown on stderr
 * by every command that loads the project; carried in `Project.notes`.
 */
export interface ConfigNote extends ConfigProblem {
  level: 'note' | 'warning';
}

/** `problems` without repeats (the same value merged into several instances), in first-seen order. */
export function uniqueProblems<P extends ConfigProblem>(problems: readonly P[]): P[] {
  const set = new ProblemSet();
  set.addAll(problems);
  return set.list as P[];
}
