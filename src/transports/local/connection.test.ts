import { describe, expect, it } from 'vitest';
import { LocalConnection } from './connection.js';

describe('LocalConnection', () => {
  const c = new LocalConnection();
  it('returns stdout, stderr and the exit code', async () => {
    const r = await c.exec('echo out; echo err >&2; exit 7');
    expect(r).toMatchObject({ stdout: 'out\n', stderr: 'err\n', exitCode: 7 });
  });
  it('streams output and passes stdin', async () => {
    const chunks: string[] = [];
    const r = await c.exec('cat', { stdin: 'hello', onStdout: (s) => chunks.push(s) });
    expect(r.stdout).toBe('hello');
    expect(chunks.join('')).toBe('hello');
  });
  it('kills a command on timeout and reports no exit code', async () => {
    let out = '';
    const r = await c.exec('echo $$; exec sleep 60', { timeoutMs: 200, onStdout: (s) => (out += s) });
    expect(r.exitCode).toBeNull();
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGTERM');
    // The command was killed, not waited for: its process is gone when exec returns.
    const pid = Number(out.trim());
    expect(pid).toBeGreaterThan(1);
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });
  it('rejects with CancelledError on abort', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await expect(c.exec('sleep 5', { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
