import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderInventory, splitArgs } from './inventory.js';

describe('renderInventory', () => {
  it('puts the host in all and in the hosts groups, with connection vars and quoted ssh options', () => {
    const inv = parse(
      renderInventory({
        host: 'default-debian-12',
        groups: ['web', 'all'],
        hostname: '127.0.0.1',
        port: 2222,
        username: 'debian',
        privateKeyPath: '/k/id key',
        pythonInterpreter: '/usr/bin/python3',
        become: true,
        sshOptions: ['-o', 'UserKnownHostsFile=/tmp/a b/known_hosts'],
      }),
    );
    const vars = inv.all.hosts['default-debian-12'];
    expect(vars).toMatchObject({ ansible_host: '127.0.0.1', ansible_port: 2222, ansible_user: 'debian', ansible_become: true });
    expect(splitArgs(vars.ansible_ssh_common_args)).toEqual(['-o', 'UserKnownHostsFile=/tmp/a b/known_hosts', '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes']);
    expect(Object.keys(inv.all.children)).toEqual(['web']);
  });
});

describe('splitArgs', () => {
  it('splits like a POSIX shell without expanding', () => {
    expect(splitArgs(`--skip-tags=redis -e 'a=b c' "x\\"y" \\$HOME ''`)).toEqual(['--skip-tags=redis', '-e', 'a=b c', 'x"y', '$HOME', '']);
    expect(() => splitArgs(`'open`)).toThrow(/unterminated/);
  });
});
