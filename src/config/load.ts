import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type ConfigProblem } from '../kernel/errors.js';
import { discoverConfigFiles } from './discover.js';
import { documentSchema } from './document-schema.js';
import { buildInstances } from './instances.js';
import { convertKitchenLegacy } from './kitchen-legacy.js';
import { mergeNodes, wrapInMap } from './merge.js';
import { uniqueProblems, type ConfigNote } from './problems.js';
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
  const files = await discoverConfigFiles(opts.cwd, opts.configFile, env);
  const problems: ConfigProblem[] = [];
  const notes: ConfigNote[] = [];
  const roots: ValueNode[] = [];
  // Kitchen's precedence: the global file, then the project file, then the local overlay over both.
  for (const file of [files.globalFile, files.file, files.localFile]) {
    if (file === undefined) continue;
    const text = await readFile(file, 'utf8');
    const parsed = parseConfigText(file, text, env);
    problems.push(...parsed.problems);
    notes.push(...parsed.notes);
    if (parsed.root) roots.push(normalizeForMerge(parsed.root));
  }
  if (files.globalFile) {
    notes.push({ level: 'note', file: files.globalFile, path: '', message: 'merged under the project configuration, as Test Kitchen does', hint: 'set KITCHEN_GLOBAL_YAML to another file to use that one instead' });
  }
  const fail = (list: ConfigProblem[]) => Object.assign(new ConfigError(list, { hint: hintFor(list) }), { notes });
  if (problems.length > 0) throw fail(problems);

  // Kitchen deep-merges each file over the one before; lists (platforms, suites) are replaced.
  const root = roots.reduce<ValueNode | undefined>((acc, r) => mergeNodes(acc, r), undefined)!;
  accountsFromSource(root);
  notes.push(...convertKitchenLegacy(root));
  const doc = validateNode(documentSchema, root, root.origin);
  const projectDir = files.projectDir;
  if (doc.problems.length > 0) {
    // Every layer's problems in one run: the instances' too, as far as a document with problems can be read.
    const more = instanceProblemsOfBroken(root, files.file, projectDir);
    throw fail(uniqueProblems(sortProblems([...doc.problems, ...more])));
  }

  const built = buildInstances(root, files.file, projectDir);
  notes.push(...built.notes);
  if (built.problems.length > 0) throw fail(uniqueProblems(sortProblems([...built.problems, ...built.instances.flatMap((i) => i.problems)])));
  return {
    file: files.file,
    ...(files.localFile ? { localFile: files.localFile } : {}),
    ...(files.globalFile ? { globalFile: files.globalFile } : {}),
    projectDir,
    stateDir: path.join(projectDir, '.hallmark'),
    instances: built.instances,
    build: { atomic: doc.data?.build?.atomic ?? true },
    notes,
  };
}

/**
 * Kitchen's loader normalises each file before merging (`normalize_hash`):
 * a top-level `driver:`/`provisioner:` written as a string is `{name: ...}`
 * (`busser:` as a string is `{version: ...}`), and written empty is `{}`, so
 * `driver: vagrant` in an overlay changes the name and keeps the other keys.
 */
function normalizeForMerge(root: ValueNode): ValueNode {
  if (root.kind !== 'map') return root;
  for (const [key, field] of [['driver', 'name'], ['provisioner', 'name'], ['busser', 'version']] as const) {
    const v = root.entries.get(key);
    if (v?.kind !== 'scalar') continue;
    if (v.value === null || v.value === undefined) root.entries.set(key, { kind: 'map', origin: v.origin, entries: new Map() });
    else if (typeof v.value === 'string') root.entries.set(key, wrapInMap(field, v));
  }
  return root;
}

/**
 * The file-level and instance problems of a document that failed its schema,
 * as far as its platforms and suites can be read; nothing when they cannot.
 */
function instanceProblemsOfBroken(root: ValueNode, file: string, projectDir: string): ConfigProblem[] {
  try {
    const built = buildInstances(root, file, projectDir);
    return [...built.problems, ...built.instances.flatMap((i) => i.problems)];
  } catch {
    return [];
  }
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
