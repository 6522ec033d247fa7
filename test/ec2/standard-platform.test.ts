/**
 * kitchen-ec2's image lookup by platform name, against moto_server started
 * with MOTO_AMIS_PATH: a file of look-alike public images (the only AMIs moto
 * then has), with decoys that each rule must skip: a newer image of the same
 * name from the wrong owner, a newer arm64 one, a newer paravirtual one, an
 * older release that is newer, a Beta RHEL.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ec2Error } from '../../src/drivers/ec2/aws-errors.js';
import { ec2Schema } from '../../src/drivers/ec2/schema.js';
import { resolveSourceImage } from '../../src/drivers/ec2/source-image.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { sdk } from './ec2-context.js';

const CANONICAL = '099720109477';
const DEBIAN = '136693071363';
const AMAZON = '137112412989';
const REDHAT = '309956199498';
const DECOY = '123456789012';

interface Ami {
  ami_id: string;
  name: string;
  owner_id: string;
  creation_date: string;
  architecture?: string;
  virtualization_type?: string;
  root_device_type?: string;
}

const ami = (id: number, name: string, owner_id: string, creation_date: string, extra: Partial<Ami> = {}): Ami => ({
  ami_id: `ami-${id.toString(16).padStart(17, '0')}`,
  name,
  owner_id,
  creation_date,
  architecture: 'x86_64',
  virtualization_type: 'hvm',
  root_device_type: 'ebs',
  ...extra,
});

const AMIS: Ami[] = [
  // ubuntu 22.04: the one to pick is 0x2 (newest x86_64 hvm ebs from Canonical)
  ami(0x1, 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240101', CANONICAL, '2024-01-01T00:00:00.000Z'),
  ami(0x2, 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240301', CANONICAL, '2024-03-01T00:00:00.000Z'),
  ami(0x3, 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240601', DECOY, '2024-06-01T00:00:00.000Z'),
  ami(0x4, 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-20240501', CANONICAL, '2024-05-01T00:00:00.000Z', { architecture: 'arm64' }),
  ami(0x5, 'ubuntu/images/paravirtual/ubuntu-jammy-22.04-amd64-server-20240401', CANONICAL, '2024-04-01T00:00:00.000Z', { virtualization_type: 'paravirtual' }),
  // an older release published later: `ubuntu` (no version) still takes the highest version
  ami(0x6, 'ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-20240701', CANONICAL, '2024-07-01T00:00:00.000Z'),
  // debian 12: 0x11, not the decoy
  ami(0x10, 'debian-12-amd64-20240102-1614', DEBIAN, '2024-01-02T00:00:00.000Z'),
  ami(0x11, 'debian-12-amd64-20240211-1654', DEBIAN, '2024-02-11T00:00:00.000Z'),
  ami(0x12, 'debian-12-amd64-20240301-0000', DECOY, '2024-03-01T00:00:00.000Z'),
  ami(0x13, 'debian-11-amd64-20240301-0000', DEBIAN, '2024-03-01T00:00:00.000Z'),
  // amazon linux 2023
  ami(0x20, 'al2023-ami-2023.3.20240131.0-kernel-6.1-x86_64', AMAZON, '2024-01-31T00:00:00.000Z'),
  ami(0x21, 'al2023-ami-2023.4.20240319.1-kernel-6.1-x86_64', AMAZON, '2024-03-19T00:00:00.000Z'),
  ami(0x22, 'al2023-ami-2023.5.20240601.0-kernel-6.1-x86_64', DECOY, '2024-06-01T00:00:00.000Z'),
  // rhel 9: the Beta is newer and last
  ami(0x30, 'RHEL-9.3.0_HVM-20231101-x86_64-5-Hourly2-GP2', REDHAT, '2023-11-01T00:00:00.000Z'),
  ami(0x31, 'RHEL-9.4.0_HVM_Beta-20240301-x86_64-1-Hourly2-GP3', REDHAT, '2024-03-01T00:00:00.000Z'),
];

let dir: string;
let moto: Moto;
let ec2: EC2Client;
const id = (n: number) => `ami-${n.toString(16).padStart(17, '0')}`;
const noImage = ec2Schema().parse({ name: 'ec2', region: 'us-east-1' });
const resolve = (platform: string, options = noImage) => resolveSourceImage(ec2, 'us-east-1', options, new AbortController().signal, platform);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hallmark-amis-'));
  const file = path.join(dir, 'amis.json');
  await writeFile(file, JSON.stringify(AMIS.map((a) => ({ ...a, public: true, state: 'available', root_device_name: '/dev/sda1' }))));
  moto = await startMoto({ env: { MOTO_AMIS_PATH: file } });
  ec2 = sdk(moto, 'us-east-1');
});

afterAll(async () => {
  ec2?.destroy();
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("kitchen-ec2's image lookup by platform name (no image_id, no image_search)", () => {
  it('ubuntu-22.04: the newest x86_64 HVM image from Canonical, not the newer decoy of another owner, the arm64 or the paravirtual one', async () => {
    expect((await resolve('ubuntu-22.04')).ImageId).toBe(id(0x2));
  });

  it('ubuntu-22.04-arm64: the architecture in the name is a filter', async () => {
    expect((await resolve('ubuntu-22.04-arm64')).ImageId).toBe(id(0x4));
  });

  it('ubuntu: the highest version first, though an older release was published later', async () => {
    expect((await resolve('ubuntu')).ImageId).toBe(id(0x2));
  });

  it('debian-12, amazon2023: by owner and name pattern, newest first', async () => {
    expect((await resolve('debian-12')).ImageId).toBe(id(0x11));
    expect((await resolve('amazon2023')).ImageId).toBe(id(0x21));
  });

  it('rhel-9: a Beta image goes last, though it is newer', async () => {
    expect((await resolve('rhel-9')).ImageId).toBe(id(0x30));
  });

  it('a name that is no standard platform searches as ubuntu, as kitchen-ec2 does', async () => {
    expect((await resolve('web-server')).ImageId).toBe(id(0x2));
  });

  it('image_search still wins over the name, sorted by the same rules', async () => {
    const o = ec2Schema().parse({ name: 'ec2', image_search: { 'owner-id': DEBIAN, name: 'debian-*' } });
    // debian-12 is the highest version for the debian rules; the decoy's owner is not searched
    expect((await resolve('debian-12', o)).ImageId).toBe(id(0x11));
  });

  it('no image for a standard platform is an error naming the platform and the search', async () => {
    const err = await resolve('fedora-40').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Ec2Error);
    expect((err as Error).message).toContain('the platform name "fedora-40" (kitchen-ec2\'s search for fedora 40)');
    expect((err as Error).message).toContain('Fedora-Cloud-Base-40-*');
    expect((err as Ec2Error).hint).toContain('image_id or image_search');
  });
});
