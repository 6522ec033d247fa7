import { describe, expect, it } from 'vitest';
import { ec2Schema } from './schema.js';
import { searchParams } from './source-image.js';
import { sshCidrs } from './network.js';
import { defaultUsername } from './username.js';
import { clientToken, machineTags } from './launch.js';
import { copyableTags } from './distribute.js';

describe('ec2 options', () => {
  it('applies defaults: IMDSv2 required, long image waits, SDK retries', () => {
    const o = ec2Schema().parse({ name: 'ec2', image_id: 'ami-0123456789abcdef0' });
    expect(o.metadata_options.http_tokens).toBe('required');
    expect(o.max_wait).toBeGreaterThanOrEqual(1800);
    expect(o).toMatchObject({ max_attempts: 10, retry_mode: 'standard', no_reboot: false, instance_type: 't3.micro', tags: {} });
  });

  it('rejects unknown keys and conflicting choices, naming the key', () => {
    const unknown = ec2Schema().safeParse({ name: 'ec2', image_idd: 'ami-1' });
    expect(unknown.success).toBe(false);
    expect(JSON.stringify(unknown.error?.issues)).toContain('image_idd');
    const both = ec2Schema().safeParse({ name: 'ec2', image_id: 'ami-0123abcd', image_search: { name: 'x' } });
    expect(both.success).toBe(false);
    expect(both.error?.issues[0]?.path).toEqual(['image_search']);
    expect(ec2Schema().safeParse({ name: 'ec2', region: 'us-east' }).success).toBe(false);
    expect(ec2Schema().safeParse({ name: 'ec2', region: 'us-gov-west-1' }).success).toBe(true);
  });

  it('turns image_search owners into Owners and the rest into filters, available only', () => {
    expect(searchParams({ 'owner-id': '137112412989', name: 'al2023-ami-*', architecture: ['x86_64'] })).toEqual({
      Owners: ['137112412989'],
      Filters: [
        { Name: 'name', Values: ['al2023-ami-*'] },
        { Name: 'architecture', Values: ['x86_64'] },
        { Name: 'state', Values: ['available'] },
      ],
    });
  });

  it('never opens SSH to the world by default', async () => {
    const signal = new AbortController().signal;
    const base = ec2Schema().parse({ name: 'ec2' });
    expect(await sshCidrs({ ...base, security_group_cidr_ip: '10.0.0.0/8' }, signal)).toEqual(['10.0.0.0/8']);
    expect(await sshCidrs({ ...base, endpoint: 'http://127.0.0.1:5000' }, signal)).toEqual(['127.0.0.1/32']);
    // checkip.amazonaws.com answers the caller's address and a newline
    const checkip = (async () => new Response('198.51.100.7\n')) as unknown as typeof fetch;
    expect(await sshCidrs(base, signal, checkip)).toEqual(['198.51.100.7/32']);
    const offline = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    await expect(sshCidrs(base, signal, offline)).rejects.toMatchObject({ hint: expect.stringContaining('security_group_cidr_ip') });
  });

  it('guesses the login user from the platform name and derives stable client tokens', () => {
    expect(defaultUsername('ubuntu-22.04')).toBe('ubuntu');
    expect(defaultUsername('debian-12')).toBe('admin');
    expect(defaultUsername('something-else')).toBe('ec2-user');
    expect(clientToken('b1', 'copy', 'eu-west-1')).toBe(clientToken('b1', 'copy', 'eu-west-1'));
    expect(clientToken('b1', 'copy', 'eu-west-1')).not.toBe(clientToken('b1', 'copy', 'us-west-2'));
    expect(clientToken('b1').length).toBeLessThanOrEqual(64);
  });
});

describe('tags', () => {
  it('configured driver tags win over the default Name; provenance is always hallmark\'s', () => {
    const o = ec2Schema().parse({ name: 'ec2', image_id: 'ami-0123456789abcdef0', tags: { Name: 'centos7-secure', created_by: 'test-kitchen', 'hallmark:instance': 'x' } });
    expect(machineTags(o, 'default-centos7', 'b1')).toEqual({ Name: 'centos7-secure', created_by: 'test-kitchen', 'hallmark:build-id': 'b1', 'hallmark:instance': 'default-centos7' });
    expect(machineTags(ec2Schema().parse({ name: 'ec2' }), 'default-centos7', 'b1').Name).toBe('default-centos7');
  });

  it('a copy takes its source image\'s tags except AWS\'s own and hallmark:state', () => {
    expect(copyableTags([{ Key: 'Name', Value: 'centos7-secure' }, { Key: 'aws:cloudformation:stack-name', Value: 's' }, { Key: 'hallmark:state', Value: 'published' }, { Key: 'created_by', Value: 'test-kitchen' }])).toEqual({
      Name: 'centos7-secure',
      created_by: 'test-kitchen',
    });
  });
});
