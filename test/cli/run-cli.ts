/**
 * Runs the built CLI (`bin/hallmark`, which loads dist/: `npm test` builds
 * first) as a child process, the way users and CI run it.
 */
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = path.join(ROOT, 'bin/hallmark');
export const FIXTURES = path.join(ROOT, 'test/fixtures/cli');

export function assertBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run "npm run build" (npm test does) before the CLI tests');
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** Starts `hallmark ...args`; never rejects on a non-zero exit. Plain output (CI=1) unless env says otherwise. */
export function hallmark(args: string[], opts: CliOptions): ResultPromise<{ reject: false; all: true }> {
  return execa(BIN, args, {
    cwd: opts.cwd,
    env: { CI: '1', ...opts.env },
    reject: false,
    all: true,
    timeout: opts.timeoutMs ?? 60_000,
    forceKillAfterDelay: 2_000,
  }) as unknown as ResultPromise<{ reject: false; all: true }>;
}

/** Temp project dirs, removed by `removeProjects()` in afterAll. */
const made: string[] = [];
export async function project(files: Record<string, string> = {}, fromFixture?: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hallmark-cli-'));
  made.push(dir);
  if (fromFixture) await cp(path.join(FIXTURES, fromFixture), path.join(dir, 'hallmark.yml'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}
export async function removeProjects(): Promise<void> {
  for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
}

export const ANSI = /\x1b\[/;
