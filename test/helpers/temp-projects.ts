/**
 * Loads kitchen.yml text as a project in its own temp directory, for tests of
 * the config loader. Registers beforeAll/afterAll in the calling test file:
 * one temp root per file, removed after it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadProject, type Project } from '../../src/config/index.js';

export function tempProjects(prefix: string): (yml: string) => Promise<Project> {
  let root = '';
  let n = 0;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });
  return async (yml) => {
    const dir = path.join(root, `p${n++}`);
    await mkdir(dir);
    await writeFile(path.join(dir, 'kitchen.yml'), yml);
    return loadProject({ cwd: dir, env: {} });
  };
}
