import type { Image } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { parsePlatformString, platformSearch, sortImages, standardPlatform } from './standard-platform.js';
import { defaultUsername } from './username.js';

describe("kitchen-ec2's standard platforms", () => {
  it('parses names as parse_platform_string does', () => {
    expect(parsePlatformString('ubuntu-22.04')).toEqual(['ubuntu', '22.04', undefined]);
    expect(parsePlatformString('ubuntu-22.04-arm64')).toEqual(['ubuntu', '22.04', 'arm64']);
    expect(parsePlatformString('amazon2-arm64')).toEqual(['amazon2', undefined, 'arm64']);
    expect(parsePlatformString('amazon2023')).toEqual(['amazon2023', undefined, undefined]);
    expect(parsePlatformString('windows-2012r2')).toEqual(['windows', '2012r2', undefined]);
  });

  it("searches by each platform's owner and name pattern", () => {
    expect(standardPlatform('ubuntu-22.04')!.search).toEqual({ 'owner-id': '099720109477', name: 'ubuntu/images/*/ubuntu-*-22.04*' });
    expect(standardPlatform('debian')!.search).toEqual({ 'owner-id': '136693071363', name: 'debian-13-*' });
    expect(standardPlatform('debian-9')!.search).toEqual({ 'owner-id': '379101102735', name: 'debian-stretch-*' });
    expect(standardPlatform('centos-7-x86_64')!.search).toEqual({
      'owner-id': '125523088429',
      name: ['CentOS 7*', 'CentOS-7*-GA-*', 'CentOS Linux 7*', 'CentOS Stream 7*'],
      architecture: 'x86_64',
    });
    expect(standardPlatform('el-8')!).toMatchObject({ name: 'rhel', search: { 'owner-id': '309956199498', name: 'RHEL-8*' } });
    expect(standardPlatform('windows-2022')!.search).toEqual({ 'owner-alias': 'amazon', name: 'Windows_Server-2022-English-Full-Base-*' });
    expect(standardPlatform('windows-2012r2')!.search.name).toEqual(['Windows_Server-2012-R2_RTM-English-*-Base-*', 'Windows_Server-2012-R2_SP*-English-*-Base-*']);
    expect(standardPlatform('macos-14-arm64')!.search).toMatchObject({ architecture: 'arm64_mac' });
    expect(standardPlatform('web')).toBeUndefined();
    expect(platformSearch('web')).toMatchObject({ fallback: true, platform: { name: 'ubuntu' } });
  });

  it("uses kitchen-ec2's login users (centos 9 is ec2-user)", () => {
    expect(['centos-7', 'centos-9', 'rhel-6.3', 'debian-12', 'windows-2019', 'rockylinux-9'].map(defaultUsername)).toEqual(['centos', 'ec2-user', 'root', 'admin', 'administrator', 'rocky']);
  });

  it('orders images: version groups first, then hvm, EBS root, gp3/gp2 root volume, x86_64, newest', () => {
    const img = (id: string, o: Record<string, unknown>): Image => ({
      ImageId: id,
      Architecture: 'x86_64',
      VirtualizationType: 'hvm',
      RootDeviceType: 'ebs',
      RootDeviceName: '/dev/sda1',
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeType: 'gp3' } }],
      ...o,
    });
    const images = [
      img('newest-standard-volume', { Name: 'centos 7.9', CreationDate: '2024-05', BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeType: 'standard' } }] }),
      img('gp3', { Name: 'centos 7.9', CreationDate: '2024-03' }),
      img('instance-store', { Name: 'centos 7.9', CreationDate: '2024-06', RootDeviceType: 'instance-store' }),
      img('centos-8', { Name: 'centos 8', CreationDate: '2023-01' }),
      img('centos-7', { Name: 'centos 7', CreationDate: '2023-01' }),
    ];
    // centos: "8" sorts as 8.999, above 7.999 ("7") and 7.9
    expect(sortImages(images, 'centos').map((i) => i.ImageId)).toEqual(['centos-8', 'centos-7', 'gp3', 'newest-standard-volume', 'instance-store']);
  });
});
