import { stringify } from 'yaml';
import { buildProblems, redactSecrets } from '../config/index.js';
import { ConfigError, type ExitCode } from '../kernel/errors.js';
import { readInstanceState } from '../kernel/journal.js';
import { getPluginDef } from '../plugins.js';
import { printError } from './print-error.js';
import { out, project, selected, table, type GlobalOptions } from './context.js';

/** `hallmark validate`: every problem, file-level and per instance; exit 2 when any. */
export async function validate(pattern: string | undefined, g: GlobalOptions): Promise<ExitCode> {
  const { entries } = await selected(g, pattern);
  // The selected instances are what `hallmark build <regex>` would build together.
  const build = buildProblems(entries.filter((e) => e.problems.length === 0).map((e) => e.config));
  const problems = [...entries.flatMap((e) => e.problems), ...build];
  if (g.json) out(JSON.stringify({ valid: problems.length === 0, instances: entries.map((e) => ({ instance: e.config.name, problems: e.problems })), build }));
  if (problems.length) {
    if (!g.json) printError(new ConfigError(problems));
    return 2;
  }
  if (!g.json) out(`${entries.length} instance(s) valid: ${entries.map((e) => e.config.name).join(', ')}`);
  return 0;
}

/** `hallmark list`: Kitchen's columns plus last error. */
export async function list(pattern: string | undefined, g: GlobalOptions): Promise<ExitCode> {
  const { project: p, entries } = await selected(g, pattern);
  const rows = [];
  for (const e of entries) {
    const s = await readInstanceState(p.stateDir, e.config.name);
    rows.push({
      instance: e.config.name,
      driver: e.config.driver.name,
      provisioner: e.config.provisioner.name,
      verifier: e.config.verifier.name,
      transport: e.config.transport.name,
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
          const state = await readInstanceState(p.stateDir, e.config.name);
          return [e.config.name, { ...(redactSecrets(config) as object), state: { lastAction: state.lastAction, lastError: state.lastError, resources: state.driver, images: state.images }, problems: e.problems }];
        }),
      ),
    ),
  };
  out(g.json ? JSON.stringify(doc, null, 2) : stringify(doc));
  return 0;
}

export { project, getPluginDef };
