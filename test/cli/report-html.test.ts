import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../helpers/report-browser.js';
import { assertBuilt, hallmark } from './run-cli.js';

// The report rendered by a real browser (Debian's chromium, scripts/install-deps.sh): the DOM after the script ran.
describe('verify --target --html', () => {
  let dir: string;
  beforeAll(async () => {
    assertBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'hm-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a self-contained report whose first check is the failed one, with no console error', async () => {
    await writeFile(path.join(dir, 'spec.yml'), 'file:\n  /etc/passwd:\n    exists: true\n  /nonexistent-hallmark:\n    exists: true\n');
    const r = await hallmark(['verify', '--target', 'local', '--spec', 'spec.yml', '--html', 'report.html'], { cwd: dir });
    expect(r.exitCode).toBe(3);
    const page = await renderReport(path.join(dir, 'report.html'), 'verify-target-local');
    expect(page.problems).toEqual([]);
    expect(page.result).toBe('FAILED');
    expect(page.checks.map((c) => `${c.status} ${c.id}`)).toEqual(['fail file:/nonexistent-hallmark:exists', 'pass file:/etc/passwd:exists']);
    expect(page.checks.every((c) => c.visible)).toBe(true);
    // the filter script ran: it counted the shown rows
    expect(page.shownCount).toBe('2');
    expect(page.summary).toEqual([['local', 'failed', '1', '1', '0', '0']]);
  });
});
