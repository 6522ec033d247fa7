import { describe, expect, it } from 'vitest';
import type { EventInput, HallmarkEvent } from '../kernel/events.js';
import { finalTable, liveFrame, LiveState, printable } from './live-view.js';

const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** Feeds events with explicit times (ms from 0). */
function feed(state: LiveState, events: [number, EventInput][]): string[] {
  const above: string[] = [];
  for (const [time, e] of events) {
    const text = state.apply({ ...e, time } as HallmarkEvent);
    if (text !== undefined) above.push(plain(text));
  }
  return above;
}

describe('the live view', () => {
  it('one line per instance: its step, step/instance elapsed, its last log line; warnings scroll above', () => {
    const s = new LiveState();
    const above = feed(s, [
      [0, { type: 'action-start', instance: 'web-box', action: 'test' }],
      [0, { type: 'action-start', instance: 'web-longer-name', action: 'test' }],
      [1000, { type: 'step-start', instance: 'web-box', step: 'converge' }],
      [1500, { type: 'output', instance: 'web-box', stream: 'stdout', text: 'first\n\x1b[1mSetting up nginx\x1b[0m\r\n' }],
      [1600, { type: 'log', instance: 'web-longer-name', level: 'warn', message: 'slow mirror' }],
      [1700, { type: 'check', instance: 'web-box', id: 'c', title: 'Command: true', status: 'pass' }],
    ]);
    expect(above).toEqual(['web-longer-name slow mirror']);
    expect(plain(liveFrame(s, 3000, 120)).split('\n')).toEqual([
      '⠋ web-box          converge   2.0s/3.0s  Setting up nginx',
      '⠋ web-longer-name  starting   3.0s/3.0s  slow mirror',
    ]);
    // cut to the terminal's width, never wrapped
    for (const l of plain(liveFrame(s, 3000, 40)).split('\n')) expect([...l].length).toBeLessThanOrEqual(40);
    expect(plain(liveFrame(s, 3000, 40)).split('\n')[0]).toBe('⠋ web-box          converge   2.0s/3.0s…');
  });

  it('a skipped step says why; a finished instance says ok or FAILED with its error', () => {
    const s = new LiveState();
    feed(s, [
      [0, { type: 'action-start', instance: 'a-x', action: 'build' }],
      [0, { type: 'step-start', instance: 'a-x', step: 'boot-test' }],
      [0, { type: 'step-end', instance: 'a-x', step: 'boot-test', ok: true, skipped: 'image.boot_test is off', durationMs: 0 }],
    ]);
    expect(plain(liveFrame(s, 500, 120))).toBe('⠋ a-x  boot-test  0.5s/0.5s  boot-test skipped (image.boot_test is off)');
    feed(s, [[900, { type: 'action-end', instance: 'a-x', action: 'build', ok: false, error: '1 check failed\nmore', durationMs: 900 }]]);
    expect(plain(liveFrame(s, 1000, 120))).toBe('✖ a-x  build FAILED 0.9s  1 check failed');
  });

  it('the final table: result, time and every step per instance; the build commit (no action of its own) too', () => {
    const s = new LiveState();
    feed(s, [
      [0, { type: 'action-start', instance: 'web-box', action: 'build' }],
      [0, { type: 'step-end', instance: 'web-box', step: 'converge', ok: true, durationMs: 2500 }],
      [0, { type: 'step-end', instance: 'web-box', step: 'boot-test', ok: true, skipped: 'off', durationMs: 0 }],
      [0, { type: 'action-end', instance: 'web-box', action: 'build', ok: true, durationMs: 4000 }],
      [0, { type: 'action-start', instance: 'web-other', action: 'build' }],
      [0, { type: 'step-end', instance: 'web-other', step: 'verify', ok: false, error: 'x', durationMs: 1200 }],
      [0, { type: 'action-end', instance: 'web-other', action: 'build', ok: false, durationMs: 1500 }],
      [0, { type: 'step-start', instance: 'build', step: 'share' }],
      [0, { type: 'step-end', instance: 'build', step: 'share', ok: true, durationMs: 300 }],
    ]);
    expect(plain(finalTable(s, 120)).split('\n')).toEqual([
      '  Instance   Action  Result  Time  Steps',
      '✔ web-box    build   ok      4.0s  converge 2.5s · boot-test skipped',
      '✖ web-other  build   FAILED  1.5s  verify FAILED 1.2s',
      '✔ build      commit  ok      0.3s  share 0.3s',
    ]);
  });

  it('printable drops escape sequences and control characters a remote command prints', () => {
    expect(printable('\x1b[2K\x1b[1Gdone\x07 \x1b]0;title\x07ok\t!')).toBe('done ok !');
  });
});
