import { describe, expect, it } from 'vitest';
import { ApiCallLedger, apiCallsOf, sumApiCalls, summaryOf } from './api-calls.js';

describe('ApiCallLedger', () => {
  it('counts calls, requests, retries, throttling and failures per service, region and action, sorted', () => {
    const l = new ApiCallLedger();
    // CopyImage in eu-west-1: throttled once, then answered.
    l.call('ec2', 'eu-west-1', 'CopyImage');
    l.request('ec2', 'eu-west-1', 'CopyImage', { retry: false, throttled: true });
    l.request('ec2', 'eu-west-1', 'CopyImage', { retry: true, throttled: false });
    // A DescribeImages that failed without retries (NotFound), and an SSM call.
    l.call('ec2', 'us-east-1', 'DescribeImages');
    l.request('ec2', 'us-east-1', 'DescribeImages', { retry: false, throttled: false });
    l.failed('ec2', 'us-east-1', 'DescribeImages');
    l.call('ssm', 'us-east-1', 'PutParameter');
    l.request('ssm', 'us-east-1', 'PutParameter', { retry: false, throttled: false });
    const s = l.summary();
    expect(s.byAction).toEqual([
      { service: 'ec2', region: 'eu-west-1', action: 'CopyImage', calls: 1, requests: 2, retries: 1, throttled: 1, failed: 0 },
      { service: 'ec2', region: 'us-east-1', action: 'DescribeImages', calls: 1, requests: 1, retries: 0, throttled: 0, failed: 1 },
      { service: 'ssm', region: 'us-east-1', action: 'PutParameter', calls: 1, requests: 1, retries: 0, throttled: 0, failed: 0 },
    ]);
    expect(s.total).toEqual({ calls: 3, requests: 4, retries: 1, throttled: 1, failed: 1 });
    // A summary is a copy: later calls do not change it.
    l.call('ec2', 'eu-west-1', 'CopyImage');
    expect(s.byAction[0]!.calls).toBe(1);
    expect(l.summary().byAction[0]!.calls).toBe(2);
  });

  it('sums instances per action and region; summaryOf sums ledgers', () => {
    const a = new ApiCallLedger();
    const b = new ApiCallLedger();
    for (const l of [a, b]) {
      l.call('ec2', 'us-east-1', 'RunInstances');
      l.request('ec2', 'us-east-1', 'RunInstances', { retry: false, throttled: false });
    }
    b.call('ec2', 'eu-west-1', 'CopyImage');
    b.request('ec2', 'eu-west-1', 'CopyImage', { retry: false, throttled: false });
    const total = sumApiCalls([a.summary(), b.summary()]);
    expect(total.byAction.map((c) => `${c.region} ${c.action} ${c.calls}`)).toEqual(['eu-west-1 CopyImage 1', 'us-east-1 RunInstances 2']);
    expect(total.total).toEqual({ calls: 3, requests: 3, retries: 0, throttled: 0, failed: 0 });
    expect(summaryOf([a, b])).toEqual(total);
    expect(sumApiCalls([])).toEqual({ total: { calls: 0, requests: 0, retries: 0, throttled: 0, failed: 0 }, byAction: [] });
  });

  it('apiCallsOf finds the ledger of a driver that keeps one, and nothing on others', () => {
    const ledger = new ApiCallLedger();
    expect(apiCallsOf({ name: 'ec2', apiCalls: ledger })).toBe(ledger);
    expect(apiCallsOf({ name: 'qemu' })).toBeUndefined();
    expect(apiCallsOf({ apiCalls: { calls: 3 } })).toBeUndefined();
    expect(apiCallsOf(undefined)).toBeUndefined();
  });
});
