import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, hallmark } from './run-cli.js';

// The report rendered by a real browser (Debian's chromium, scripts/install-deps.sh): the DOM after the script ran.
const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(!existsSync(CHROMIUM))('verify --target --html', () => {
  let dir: string;
  beforeAll(async () => {
    assertBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'hm-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a self-contained report whose first check is the failed one', async () => {
    await writeFile(path.join(dir, 'spec.yml'), 'file:\n  /etc/passwd:\n    exists: true\n  /nonexistent-hallmark:\n    exists: true\n');
    const r = await hallmark(['verify', '--target', 'local', '--spec', 'spec.yml', '--html', 'report.html'], { cwd: dir });
    expect(r.exitCode).toBe(3);
    const dom = await execa(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${path.join(dir, 'report.html')}`], { timeout: 60_000, reject: false });
    const rows = [...dom.stdout.matchAll(/<tr class="check [^"]*" data-status="(\w+)" data-id="([^"]+)"/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(rows).toEqual(['fail file:/nonexistent-hallmark:exists', 'pass file:/etc/passwd:exists']);
    // the filter script ran: it counted the shown rows
    expect(dom.stdout).toMatch(/<span id="shown">2<\/span>/);
  });
});
