import { describe, expect, it } from 'vitest';
import { convertPackerTemplate } from './packer-template.js';

const ebs = {
  variables: { region: 'eu-west-1', app: 'web' },
  builders: [
    {
      type: 'amazon-ebs',
      region: '{{user `region`}}',
      source_ami_filter: {
        filters: { 'virtualization-type': 'hvm', name: 'debian-12-amd64-*', 'root-device-type': 'ebs' },
        owners: ['136693071363', 'amazon'],
        most_recent: true,
      },
      instance_type: 't3.small',
      ssh_username: 'admin',
      ami_name: '{{user `app`}}-{{timestamp}}',
      ami_regions: ['us-east-1', 'eu-central-1'],
      ami_users: ['123456789012', '210987654321'],
      tags: { role: 'web', team: 'platform' },
      spot_price: 'auto',
    },
  ],
  provisioners: [
    { type: 'shell', script: 'setup.sh' },
    { type: 'shell', scripts: ['a.sh', 'b.sh'], environment_vars: ['FOO=bar'] },
    { type: 'shell', inline: ['echo done'] },
  ],
};

describe('convertPackerTemplate', () => {
  it('converts amazon-ebs: regions, users, tags, the AMI filter, variables and shell provisioners', () => {
    const r = convertPackerTemplate(ebs);
    expect(r.config.driver).toEqual({
      name: 'ec2',
      region: 'eu-west-1',
      instance_type: 't3.small',
      username: 'admin',
      image_search: { 'virtualization-type': 'hvm', name: 'debian-12-amd64-*', 'root-device-type': 'ebs', 'owner-id': '136693071363', 'owner-alias': 'amazon' },
    });
    expect(r.config.image).toEqual({ name: 'web-{{timestamp}}', tags: { role: 'web', team: 'platform' } });
    expect(r.config.distribute).toEqual({ regions: ['us-east-1', 'eu-central-1'], accounts: ['123456789012', '210987654321'] });
    expect(r.config.provisioner).toEqual({ name: 'shell', scripts: ['setup.sh', 'a.sh', 'b.sh'], inline: ['echo done'], environment: { FOO: 'bar' } });
    expect(r.unconverted).toEqual(['builders[0].spot_price: auto']);
  });

  it('takes source_ami as the image id and reports owners "self"', () => {
    const r = convertPackerTemplate({ builders: [{ type: 'amazon-ebs', region: 'us-east-1', source_ami: 'ami-0123456789abcdef0', ami_name: 'x-{{isotime "2006"}}' }] });
    expect(r.config.driver).toMatchObject({ image_id: 'ami-0123456789abcdef0' });
    expect(r.config.image).toMatchObject({ name: 'x-{{timestamp}}' });
    const s = convertPackerTemplate({ builders: [{ type: 'amazon-ebs', source_ami_filter: { owners: ['self'], filters: { name: 'base-*' } } }] });
    expect(s.unconverted).toEqual(['builders[0].source_ami_filter.owners: "self" (name your account id as owner-id in image_search)']);
  });

  it('converts a qemu builder and an ansible provisioner; reports the ISO and a file provisioner', () => {
    const r = convertPackerTemplate({
      builders: [{ type: 'qemu', iso_url: 'https://example.org/d.iso', iso_checksum: 'sha256:00', memory: 2048, cpus: 4, ssh_username: 'debian', accelerator: 'kvm', vm_name: 'web', headless: true }],
      provisioners: [
        { type: 'ansible', playbook_file: 'site.yml', extra_arguments: ['-v'], groups: ['web'], ansible_env_vars: ['ANSIBLE_HOST_KEY_CHECKING=False'], use_proxy: false },
        { type: 'file', source: 'app.conf', destination: '/etc/app.conf' },
      ],
    });
    expect(r.config.driver).toEqual({ name: 'qemu', memory: 2048, cpus: 4, username: 'debian', accel: 'kvm', image: 'debian-12' });
    expect(r.config.provisioner).toEqual({ name: 'ansible_playbook', playbook: 'site.yml', ansible_extra_flags: ['-v'], hosts: ['web'], env_vars: { ANSIBLE_HOST_KEY_CHECKING: 'False' } });
    expect(r.config.image).toEqual({ name: 'web' });
    expect(r.config.platforms).toEqual([{ name: 'debian-12' }]);
    expect(r.unconverted.map((u) => u.split(':')[0])).toEqual(['builders[0].iso_url', 'builders[0].iso_checksum', 'provisioners[0].use_proxy', 'provisioners[1] (file "app.conf" -> "/etc/app.conf")']);
  });

  it('takes a qemu disk_image (a cloud image URL) as driver.image with its sha256, and disk_size in MiB', () => {
    const sum = 'a'.repeat(64);
    const r = convertPackerTemplate({
      builders: [{ type: 'qemu', disk_image: true, iso_url: 'https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2', iso_checksum: `sha256:${sum}`, disk_size: 10240, format: 'raw', output_directory: 'out' }],
    });
    expect(r.config.driver).toEqual({ name: 'qemu', image: 'https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2', image_checksum: `sha256:${sum}`, disk_size: '10240M' });
    expect(r.config.distribute).toEqual({ format: 'raw' });
    expect(r.config.platforms).toEqual([{ name: 'qemu' }]);
    expect(r.unconverted).toEqual(['builders[0].output_directory']);
  });

  it('maps amazon-ebs launch_block_device_mappings, metadata_options and ssh_interface to the ec2 driver', () => {
    const r = convertPackerTemplate({
      builders: [
        {
          type: 'amazon-ebs',
          launch_block_device_mappings: [{ device_name: '/dev/xvda', volume_size: 16, volume_type: 'gp3', delete_on_termination: true, encrypted: true }],
          metadata_options: { http_tokens: 'required', http_endpoint: 'enabled' },
          ssh_interface: 'private_ip',
          iam_instance_profile: 'builder',
          security_group_id: 'sg-1',
          snapshot_users: ['123456789012'],
        },
      ],
    });
    expect(r.config.driver).toEqual({
      name: 'ec2',
      block_device_mappings: [{ device_name: '/dev/xvda', ebs: { volume_size: 16, volume_type: 'gp3', delete_on_termination: true, encrypted: true } }],
      metadata_options: { http_tokens: 'required', http_endpoint: 'enabled' },
      interface: 'private',
      iam_profile_name: 'builder',
      security_group_ids: ['sg-1'],
    });
    expect(r.config.distribute).toEqual({ share_snapshots: true });
    expect(r.unconverted).toEqual([expect.stringMatching(/^builders\[0\]\.snapshot_users: /)]);
  });

  it('reports post-processors, unknown builders and top-level keys; several builders become platforms', () => {
    const r = convertPackerTemplate({
      builders: [
        { type: 'amazon-ebs', name: 'aws', region: 'us-east-1', ami_name: 'a-{{timestamp}}' },
        { type: 'qemu', name: 'local' },
        { type: 'docker', image: 'debian' },
      ],
      'post-processors': [{ type: 'manifest' }, [{ type: 'compress' }]],
      push: {},
    });
    expect(r.config.driver).toBeUndefined();
    expect(r.config.platforms).toEqual([
      { name: 'aws', driver: { name: 'ec2', region: 'us-east-1' } },
      { name: 'local', driver: { name: 'qemu', image: 'debian-12' } },
    ]);
    expect(r.unconverted).toEqual([
      'post-processors[0] (manifest): hallmark has no post-processors (see publish: for manifests and distribute: for copies)',
      'post-processors[1] (compress): hallmark has no post-processors (see publish: for manifests and distribute: for copies)',
      'push',
      'builders[2] (docker): hallmark converts amazon-ebs and qemu builders',
    ]);
  });

  it('refuses a template with no builder it can convert, naming what it found', () => {
    expect(() => convertPackerTemplate({ builders: [{ type: 'docker' }] })).toThrow(/no builder hallmark can convert.*builders\[0\] \(docker\)/);
    expect(() => convertPackerTemplate([])).toThrow(/an object with "builders"/);
  });

  it('turns {{env `X`}} in a variable default into ERB that reads the environment', () => {
    const r = convertPackerTemplate({ variables: { region: '{{env `AWS_REGION`}}' }, builders: [{ type: 'amazon-ebs', region: '{{user `region`}}' }] });
    expect(r.config.driver).toEqual({ name: 'ec2', region: "<%= ENV['AWS_REGION'] %>" });
    expect(r.unconverted).toEqual([]);
  });

  it('reports a variable without a default', () => {
    const r = convertPackerTemplate({ variables: { ami: null }, builders: [{ type: 'amazon-ebs', source_ami: '{{user `ami`}}' }] });
    expect(r.unconverted).toEqual(['builders[0].source_ami: variable "ami" has no default; replace {{user `ami`}} by hand']);
  });
});
