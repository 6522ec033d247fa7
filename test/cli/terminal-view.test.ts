/**
 * The live terminal view, on a real terminal: hallmark runs in a tmux pane
 * (a pseudo-terminal with a screen of its own; tmux from Debian,
 * scripts/install-deps.sh) and the test reads the rendered screen with
 * capture-pane, the way a person sees it. Two instances on the proxy driver
 * against a loopback sshd: one waits in converge until the test lets it go,
 * so the screen can be read mid-run without any timing; the other fails a check.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { assertBuilt, BIN, project, removeProjects } from './run-cli.js';

vi.setConfig({ testTimeout: 180_000 });

let sshd: Sshd;
const socket = path.join('/tmp', `hallmark-tmux-${process.pid}.sock`);
const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const screen = () => tmux('capture-pane', '-p', '-t', 'hm');

beforeAll(async () => {
  assertBuilt();
  sshd = await startSshd();
});
afterAll(async () => {
  try {
    tmux('kill-server');
  } catch {
    // not started, or already gone
  }
  rmSync(socket, { force: true });
  await sshd?.stop();
  await removeProjects();
});

/** Polls the screen until `ok` holds; fails with the last screen after `ms`. */
async function screenUntil(ok: (s: string) => boolean, what: string, ms = 120_000): Promise<string> {
  const end = Date.now() + ms;
  let s = '';
  while (Date.now() < end) {
    s = screen();
    if (ok(s)) return s;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the screen never showed ${what}; it shows:\n${s}`);
}

describe('the terminal view under a pseudo-terminal (tmux)', () => {
  it('one line per instance with its step, elapsed time and last log line, then a final table', async () => {
    const gate = `/tmp/hallmark-tty-gate-${process.pid}-${Date.now()}`;
    const dir = await project({
      'hallmark.yml': [
        'driver:',
        '  name: proxy',
        '  host: 127.0.0.1',
        `  port: ${sshd.port}`,
        `  username: ${sshd.username}`,
        `  ssh_key: ${sshd.privateKeyPath}`,
        'provisioner:',
        '  name: shell',
        `  inline: "echo first line; echo waiting-for-the-gate; while [ ! -f ${gate} ]; do sleep 0.2; done; echo through"`,
        'verifier:',
        '  name: shell',
        '  command: "true"',
        'platforms:',
        '  - name: box',
        '  - name: other',
        '    provisioner:',
        '      inline: echo other-provisioned',
        '    verifier:',
        '      command: test -f /nonexistent-hallmark-tty',
        'suites:',
        '  - name: web',
        '',
      ].join('\n'),
    });
    try {
      // CI set means plain lines: the pane runs hallmark as a person's shell would.
      const cmd = `env -u CI -u NO_COLOR -u FORCE_COLOR ${BIN} test --concurrency 2; echo "EXIT=$?"; sleep 600`;
      tmux('new-session', '-d', '-s', 'hm', '-x', '160', '-y', '40', '-c', dir, cmd);

      const mid = await screenUntil((s) => /web-box .*waiting-for-the-gate/.test(s) && /web-other .*test FAILED/.test(s), 'web-box waiting in converge and web-other done');
      const lines = mid.split('\n');
      // one line for each instance, redrawn in place: the output did not scroll
      expect(lines.filter((l) => l.includes('web-box'))).toHaveLength(1);
      expect(lines.find((l) => l.includes('web-box'))).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] web-box\s+converge\s+\d+\.\ds\/\d+\.\ds\s+waiting-for-the-gate$/);
      expect(lines.find((l) => l.includes('web-other') && l.includes('test FAILED'))).toMatch(/^✖ web-other\s+test FAILED \d+\.\ds/);
      // the failed check scrolled above the live lines
      expect(mid).toMatch(/^✖ web-other test -f \/nonexistent-hallmark-tty exits 0: exit 1$/m);
      expect(mid).not.toContain('first line');

      writeFileSync(gate, '');
      const end = await screenUntil((s) => /EXIT=\d+/.test(s), 'hallmark exiting');
      expect(end).toContain('EXIT=3');
      const rows = end.split('\n');
      // the live lines gave way to the final table: result, time and every step per instance
      const header = rows.findIndex((l) => /^\s+Instance\s+Action\s+Result\s+Time\s+Steps$/.test(l));
      expect(header, end).toBeGreaterThanOrEqual(0);
      expect(rows[header + 1]).toMatch(/^✔ web-box\s+test\s+ok\s+\d+\.\ds\s+load \d+\.\ds · destroy \d+\.\ds · create \d+\.\ds · converge \d+\.\ds · setup \d+\.\ds · verify \d+\.\ds$/);
      expect(rows[header + 2]).toMatch(/^✖ web-other\s+test\s+FAILED\s+\d+\.\ds\s+.*verify FAILED \d+\.\ds$/);
      expect(rows.some((l) => /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/.test(l))).toBe(false);
      // then the checks table on stdout
      expect(end).toMatch(/Instance\s+Passed\s+Failed\s+Errors\s+Skipped\s+Result/);
      expect(end).toContain('report: report.html');
    } finally {
      writeFileSync(gate, '');
      try {
        tmux('kill-server');
      } catch {
        // already gone
      }
      rmSync(gate, { force: true });
      // The proxy driver's "machine" is this host's sshd: destroy only forgets it.
      spawnSync(BIN, ['destroy'], { cwd: dir, env: { ...process.env, CI: '1' }, stdio: 'ignore' });
    }
  });
});
