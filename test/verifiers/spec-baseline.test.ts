/**
 * The shipped baseline profile loads, runs on this machine (a Debian 12
 * container without systemd, running as root) without any `error` result,
 * and passes/fails the checks this machine's state dictates.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { LocalConnection } from '../../src/transports/local/connection.js';
import { profileFiles } from '../../src/verifiers/spec/files.js';
import { runSpecChecks } from '../../src/verifiers/spec/run.js';

describe('baseline profile', () => {
  test('runs locally with no errors; every result has an id, title and impact', async () => {
    const files = await profileFiles('baseline');
    expect(files.map((f) => f.split('/').pop())).toEqual(['accounts.yml', 'files.yml', 'kernel.yml', 'services.yml', 'ssh.yml']);
    const { results } = await runSpecChecks(new LocalConnection(), files);
    const errors = results.filter((r) => r.status === 'error');
    expect(errors.map((r) => `${r.id}: ${r.message}`)).toEqual([]);
    for (const r of results) {
      expect(r.id).toMatch(/^HM-[A-Z]+-\d\d/);
      expect(r.title).toMatch(/^(SSH|Files|Cron|Kernel|Network|Services|Accounts): /); // written titles
      expect(typeof r.impact).toBe('number');
    }
    const status = (id: string) => results.find((r) => r.id === id)?.status;
    // Expectations derived from this machine's actual state, not hard-coded.
    const sysctl = (p: string) => readFileSync(`/proc/sys/${p.replace(/\./g, '/')}`, 'utf8').trim();
    expect(status('HM-KRN-01')).toBe(sysctl('fs.suid_dumpable') === '0' ? 'pass' : 'fail');
    expect(status('HM-NET-01')).toBe(sysctl('net.ipv4.conf.all.accept_redirects') === '0' ? 'pass' : 'fail');
    const sshdT = execFileSync('sshd', ['-T'], { encoding: 'utf8' });
    expect(status('HM-SSH-02:stdout')).toBe(/^passwordauthentication no$/m.test(sshdT) ? 'pass' : 'fail');
    expect(status('HM-SSH-01:stdout')).toBe(/^permitrootlogin (no|prohibit-password|without-password)$/m.test(sshdT) ? 'pass' : 'fail');
    expect(status('HM-FS-01:mode')).toBe('pass');
    expect(status('HM-FS-03:mode')).toBe('pass');
    expect(status('HM-FS-05:mode')).toBe('pass');
    expect(status('HM-ACC-02:stdout')).toBe('pass');
    expect(status('HM-SVC-01')).toBe('pass');
    expect(status('HM-SVC-11')).toBe('pass');
    const failed = results.filter((r) => r.status === 'fail');
    for (const f of failed) expect(f.message).toMatch(/^expected /);
  });
});
