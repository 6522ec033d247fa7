/**
 * The profiles `inspec exec` runs, collected as kitchen-inspec does: the
 * suite's local directory `test/integration/<suite>` (or its `inspec/`
 * subdirectory when other frameworks' directories sit beside it), then every
 * `inspec_tests` entry, without duplicates.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/events.js';
import type { InspecVerifierOptions } from './schema.js';

const OTHER_FRAMEWORKS = ['inspec', 'serverspec', 'bats', 'pester', 'rspec', 'cucumber', 'minitest', 'bash'];

export function localSuiteDir(projectDir: string, suite: string): string | undefined {
  let base = path.join(projectDir, 'test', 'integration', suite);
  if (OTHER_FRAMEWORKS.some((fw) => existsSync(path.join(base, fw)))) base = path.join(base, 'inspec');
  return existsSync(base) ? base : undefined;
}

type Entry = InspecVerifierOptions['inspec_tests'][number];

/** One inspec_tests entry as an `inspec exec` argument. */
export function targetOf(entry: Entry, projectDir: string, log: Logger): string {
  if (typeof entry === 'string') {
    const local = path.resolve(projectDir, entry);
    // Like kitchen-inspec: an existing path is a path; anything else goes to InSpec as written (URL, supermarket://...).
    return existsSync(local) ? local : entry;
  }
  if (entry.path) return path.resolve(projectDir, entry.path);
  if (entry.url) return entry.url;
  if (entry.git) {
    if (entry.branch || entry.tag || entry.ref) {
      log.warn(`inspec: inspec_tests git ${entry.git}: branch/tag/ref cannot be passed to \`inspec exec\`; pin them in a wrapper profile's inspec.yml depends`);
    }
    return entry.git;
  }
  if (entry.supermarket) return `supermarket://${entry.supermarket}`;
  if (entry.compliance) return `compliance://${entry.compliance}`;
  return `supermarket://${entry.name}`;
}

export function inspecTargets(opts: InspecVerifierOptions, instance: { projectDir: string; suite: string; file: string }, log: Logger): string[] {
  const local = localSuiteDir(instance.projectDir, instance.suite);
  const all = [...(local ? [local] : []), ...opts.inspec_tests.map((e) => targetOf(e, instance.projectDir, log))];
  const targets = [...new Set(all)];
  if (targets.length === 0) {
    throw new ConfigError([
      {
        file: instance.file,
        path: 'verifier.inspec_tests',
        message: `no InSpec profiles for suite "${instance.suite}": test/integration/${instance.suite}/ does not exist and inspec_tests is empty`,
        hint: 'create the profile there (inspec init profile), or list profiles in verifier.inspec_tests',
      },
    ]);
  }
  return targets;
}
