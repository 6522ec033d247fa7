import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type ConfigProblem } from '../kernel/errors.js';
import { discoverConfigFiles } from './discover.js';
import { documentSchema } from './document-schema.js';
import { buildInstances } from './instances.js';
import { mergeNodes } from './merge.js';
import { parseConfigText, type ValueNode } from './source.js';
import type { LoadOptions, Project } from './index.js';
import { sortProblems, validateNode } from './zod-problems.js';

/**
 * load -> ERB -> YAML -> merge (local overlay over main file) -> document
 * schema -> instance matrix (sections, rules, plugin blocks).
 *
 * Reads files and nothing else: no directory is created, no plugin loaded,
 * no network used. File-level problems of every stage that could run are
 * collected and thrown together as one ConfigError; problems of one
 * instance's plugin blocks stay with that instance.
 *
 * Plugin schemas come from the registry (src/plugins.ts); callers import
 * '../builtin-plugins.js' (index.ts does) so the built-ins are registered.
 */
export async function loadProjectFrom(opts: LoadOptions): Promise<Project> {
  const env = opts.env ?? process.env;
  const files = await discoverConfigFiles(opts.cwd, opts.configFile);
  const problems: ConfigProblem[] = [];
  const roots: ValueNode[] = [];
  for (const file of [files.file, files.localFile]) {
    if (file === undefined) continue;
    const text = await readFile(file, 'utf8');
    const parsed = parseConfigText(file, text, env);
    problems.push(...parsed.problems);
    if (parsed.root) roots.push(parsed.root);
  }
  if (problems.length > 0) throw new ConfigError(problems, { hint: hintFor(problems) });

  // Kitchen deep-merges the whole local file over the main one; lists (platforms, suites) are replaced.
  const root = roots.reduce<ValueNode | undefined>((acc, r) => mergeNodes(acc, r), undefined)!;
  accountsFromSource(root);
  const doc = validateNode(documentSchema, root, root.origin);
  if (doc.problems.length > 0) throw new ConfigError(doc.problems, { hint: hintFor(doc.problems) });

  const projectDir = path.dirname(files.file);
  const built = buildInstances(root, files.file, projectDir);
  if (built.problems.length > 0) throw new ConfigError(sortProblems(built.problems), { hint: hintFor(built.problems) });
  return {
    file: files.file,
    ...(files.localFile ? { localFile: files.localFile } : {}),
    projectDir,
    stateDir: path.join(projectDir, '.hallmark'),
    instances: built.instances,
    build: { atomic: doc.data?.build?.atomic ?? true },
  };
}

function hintFor(problems: ConfigProblem[]): string {
  const files = [...new Set(problems.map((p) => path.basename(p.file)))];
  return `fix ${problems.length === 1 ? 'it' : 'them'} in ${files.join(' and ')}, then run \`hallmark validate\``;
}

/**
 * YAML reads an unquoted `012345678901` as the number 12345678901. Account
 * ids are strings of digits, so every `distribute.accounts` entry written as
 * a plain integer is taken as its source text instead. Mutates the freshly
 * parsed tree (which nothing else holds yet).
 */
function accountsFromSource(node: ValueNode): void {
  if (node.kind === 'seq') node.items.forEach(accountsFromSource);
  if (node.kind !== 'map') return;
  for (const [key, value] of node.entries) {
    if (key === 'distribute' && value.kind === 'map') {
      const accounts = value.entries.get('accounts');
      if (accounts?.kind === 'seq') {
        accounts.items = accounts.items.map((item) =>
          item.kind === 'scalar' && typeof item.value === 'number' && item.raw && /^\d+$/.test(item.raw)
            ? { ...item, value: item.raw }
            : item,
        );
      }
    } else {
      accountsFromSource(value);
    }
  }
}
