import { stringify } from 'yaml';
import { buildProblems, redactSecrets, uniqueProblems, type InstanceEntry } from '../config/index.js';
import { ConfigError, StateFileError, type ExitCode } from '../kernel/errors.js';
import { readInstanceState } from '../kernel/journal.js';
import { getPluginDef } from '../plugins.js';
import { printError, printNotes } from './print-error.js';
import { instanceNotes, out, project, selected, table, type GlobalOptions } from './context.js';

/**
 * `hallmark validate`: every problem of every layer (file, instances, build),
 * each once, though a shared block is merged into many instances; then the
 * warnings and notes. Exit 2 on any problem, and with --strict on any warning.
 */
export async function validate(pattern: string | undefined, g: GlobalOptions & { strict?: boolean }): Promise<ExitCode> {
  const { project: p, entries } = await selected(g, pattern, false, { quiet: true });
  // The selected instances are what `hallmark build <regex>` would build together.
  const build = buildProblems(entries.filter((e) => e.problems.length === 0).map((e) => e.config));
  const notes = [...(p.notes ?? []), ...instanceNotes(entries)];
  const warnings = notes.filter((n) => n.level === 'warning');
  const problems = uniqueProblems([...entries.flatMap((e) => e.problems), ...build, ...(g.strict ? warnings : [])]);
  if (g.json) {
    out(
      JSON.stringify({
        valid: problems.length === 0,
        problems,
        notes,
        instances: entries.map((e) => ({ instance: e.config.name, problems: e.problems, notes: e.notes ?? [] })),
        build,
      }),
    );
    return problems.length ? 2 : 0;
  }
  if (problems.length) printError(new ConfigError(problems));
  printNotes(g.strict ? notes.filter((n) => n.level === 'note') : notes);
  if (problems.length) return 2;
  const counted = warnings.length ? ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'}; \`validate --strict\` refuses them)` : '';
  out(`${entries.length} instance(s) valid: ${entries.map((e) => e.config.name).join(', ')}${counted}`);
  return 0;
}

const columns = (e: InstanceEntry) => ({
  instance: e.config.name,
  driver: e.config.driver.name,
  provisioner: e.config.provisioner.name,
  verifier: e.config.verifier.name,
  transport: e.config.transport.name,
});

/**
 * `hallmark list --matrix`: the selected instances as a GitHub Actions job
 * matrix, one line of JSON for `$GITHUB_OUTPUT` (`matrix=...`), so that a
 * workflow builds each instance in a job of its own: `{"include":[{instance,
 * suite, platform}, ...]}`.
 */
export function matrix(entries: InstanceEntry[]): string {
  return JSON.stringify({ include: entries.map((e) => ({ instance: e.config.name, suite: e.config.suite, platform: e.config.platform })) });
}

/** `hallmark list`: Kitchen's columns plus last error. */
export async function list(pattern: string | undefined, g: GlobalOptions & { matrix?: boolean }): Promise<ExitCode> {
  // A file with no platforms lists nothing and succeeds (the load notes why).
  const { project: p, entries } = await selected(g, pattern, true);
  if (g.matrix) {
    out(matrix(entries));
    return 0;
  }
  const rows = [];
  for (const e of entries) {
    const read = await readInstanceState(p.stateDir, e.config.name).catch((err: unknown) => {
      if (err instanceof StateFileError) return err;
      throw err;
    });
    if (read instanceof StateFileError) {
      process.stderr.write(`warning: ${read.message}\n  hint: ${read.hint}\n`);
      rows.push({ ...columns(e), lastAction: '<Unknown>', created: undefined, lastError: `damaged state file: ${read.file}` });
      continue;
    }
    const s = read;
    rows.push({
      ...columns(e),
      // As Kitchen: a destroyed machine is listed as not created (its state file is gone there).
      lastAction: !s.lastAction || (s.lastAction === 'destroy' && !s.created) ? '<Not Created>' : s.lastAction,
      created: Boolean(s.created),
      lastError: e.problems.length ? `config: ${e.problems.length} problem(s)` : (s.lastError ?? '<None>'),
    });
  }
  if (g.json) {
    out(JSON.stringify(rows, null, 2));
    return 0;
  }
  out(
    table([
      ['Instance', 'Driver', 'Provisioner', 'Verifier', 'Transport', 'Last Action', 'Last Error'],
      ...rows.map((r) => [r.instance, r.driver, r.provisioner, r.verifier, r.transport, r.lastAction, r.lastError]),
    ]),
  );
  return 0;
}

/** `hallmark diagnose`: the fully merged config per instance, secrets redacted. */
export async function diagnose(pattern: string | undefined, g: GlobalOptions): Promise<ExitCode> {
  const { project: p, entries } = await selected(g, pattern);
  const doc = {
    file: p.file,
    localFile: p.localFile,
    instances: Object.fromEntries(
      await Promise.all(
        entries.map(async (e) => {
          const { file: _f, projectDir: _d, ...config } = e.config;
          const state = await readInstanceState(p.stateDir, e.config.name).then(
            (s) => ({ lastAction: s.lastAction, lastError: s.lastError, resources: s.driver, images: s.images }),
            (err: unknown) => {
              if (err instanceof StateFileError) return { error: err.message };
              throw err;
            },
          );
          return [e.config.name, { ...(redactSecrets(config) as object), state, problems: e.problems }];
        }),
      ),
    ),
  };
  out(g.json ? JSON.stringify(doc, null, 2) : stringify(doc));
  return 0;
}

export { project, getPluginDef };
