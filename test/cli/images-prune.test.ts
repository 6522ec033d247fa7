/**
 * `hallmark images prune` through the built CLI: against moto for the ec2
 * driver (the seed-style project's regions, an SSM parameter the project
 * writes sparing the image it holds), and for the local image store without
 * a project.
 */
import { CreateTagsCommand, DescribeImagesCommand, DescribeSnapshotsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { execa } from 'execa';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImageEntry, listImages, imagePath, type StoredImage } from '../../src/drivers/qemu/store.js';
import { imageWithSnapshot, registerImage, sdk } from '../ec2/ec2-context.js';
import { hallmark, makeProject, seedBaseImage, type Project } from '../fixtures/ec2-e2e/project.js';
import { startMoto, type Moto } from '../helpers/moto.js';

const FAMILY = 'golden-web';
const PARAM = '/golden-images/default/amazon2023/latest';
let moto: Moto;
let project: Project;
const ec2: Record<string, EC2Client> = {};

beforeAll(async () => {
  moto = await startMoto();
  await seedBaseImage(moto);
  for (const r of ['us-east-1', 'us-west-2']) ec2[r] = sdk(moto, r);
  project = await makeProject({ ssmParameter: PARAM, edit: (yml) => yml.replace(/^image:\n/m, `image:\n  family: ${FAMILY}\n`) });
});
afterAll(async () => {
  for (const c of Object.values(ec2)) c.destroy();
  await project?.cleanup();
  await moto?.stop();
});

/** The environment the fixture's config reads (no machine is made: sshd values are placeholders). */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return { ...moto.env, CI: '1', MOTO_ENDPOINT: moto.endpoint, SSHD_PORT: '22', SSHD_KEY: '/nonexistent', E2E_PREFIX: 'prune', HALLMARK_IMAGE_STORE: path.join(project.dir, '.store'), ...extra };
}

async function familyImages(region: string): Promise<string[]> {
  const out = await ec2[region]!.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'tag:hallmark:family', Values: [FAMILY] }] }));
  return (out.Images ?? []).map((i) => i.ImageId!).sort();
}

describe('hallmark images prune', () => {
  it('ec2: keeps the newest N of the family in the source region and every distribute region, spares the image the project\'s SSM parameter holds, deletes the snapshots; --dry-run removes nothing', async () => {
    const ids: Record<string, string[]> = {};
    for (const r of ['us-east-1', 'us-west-2']) {
      const base = await registerImage(ec2[r]!, `prune-base-${r}`);
      ids[r] = [];
      for (let i = 0; i < 3; i++) {
        const id = await imageWithSnapshot(ec2[r]!, base, `${FAMILY}-${i}`);
        await ec2[r]!.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'hallmark:family', Value: FAMILY }] }));
        ids[r].push(id);
        await new Promise((res) => setTimeout(res, 1100)); // moto's CreationDate has 1 s resolution
      }
    }
    // The parameter the project writes holds the oldest us-west-2 image.
    const ssm = new SSMClient({ region: 'us-west-2', endpoint: moto.endpoint, credentials: moto.credentials, maxAttempts: 1 });
    await ssm.send(new PutParameterCommand({ Name: PARAM, Value: ids['us-west-2']![0]!, Type: 'String', DataType: 'aws:ec2:image' }));
    ssm.destroy();
    const snapshotOf = async (r: string, id: string) =>
      (await ec2[r]!.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images![0]!.BlockDeviceMappings!.map((b) => b.Ebs!.SnapshotId!);
    const removedSnapshots = [...(await snapshotOf('us-east-1', ids['us-east-1']![0]!)), ...(await snapshotOf('us-east-1', ids['us-east-1']![1]!))];

    const dry = await hallmark(project.dir, ['images', 'prune', '--keep', '1', '--dry-run'], env());
    expect(dry.exitCode, dry.all).toBe(0);
    expect(dry.stdout).toContain(`ec2 image.keep 1 of family ${FAMILY}: us-east-1: would remove ${ids['us-east-1']![1]}, ${ids['us-east-1']![0]}`);
    expect(dry.stdout).toContain(`us-west-2: would remove ${ids['us-west-2']![1]}; in use: ${ids['us-west-2']![0]}`);
    expect(dry.stdout).toContain(`us-west-2: ${ids['us-west-2']![0]} stays: SSM parameter ${PARAM} holds it`);
    expect(await familyImages('us-east-1')).toEqual([...ids['us-east-1']!].sort());

    const r = await hallmark(project.dir, ['images', 'prune', '--keep', '1', '--json'], env());
    expect(r.exitCode, r.all).toBe(0);
    const json = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { driver: string; family: string; results: { region: string; kept: { id: string }[]; removed: { id: string }[] }[] }[];
    expect(json.map((f) => [f.driver, f.family, f.results.map((x) => [x.region, x.kept.map((i) => i.id), x.removed.map((i) => i.id)])])).toEqual([
      [
        'ec2',
        FAMILY,
        [
          ['us-east-1', [ids['us-east-1']![2]], [ids['us-east-1']![1], ids['us-east-1']![0]]],
          ['us-west-2', [ids['us-west-2']![2]], [ids['us-west-2']![1]]],
          // eu-west-1 is a distribute region too: nothing of the family there.
          ['eu-west-1', [], []],
        ],
      ],
    ]);
    expect(await familyImages('us-east-1')).toEqual([ids['us-east-1']![2]]);
    expect(await familyImages('us-west-2')).toEqual([ids['us-west-2']![0]!, ids['us-west-2']![2]!].sort());
    const left = new Set(((await ec2['us-east-1']!.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? []).map((s) => s.SnapshotId));
    for (const s of removedSnapshots) expect(left.has(s), s).toBe(false);
  }, 120_000);

  it('no project: the local store\'s family given by --family; without --family it says what to give', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'hallmark-prune-cli-'));
    const store = path.join(cwd, 'store');
    try {
      const made: StoredImage[] = [];
      for (const [i, fam] of ['web', 'web', 'web', 'db'].entries()) {
        const img: StoredImage = {
          id: `img-0000000${i}`,
          name: `${fam}-${i}`,
          tags: { 'hallmark:family': fam },
          base: { name: 'debian-12', path: '/nowhere' },
          buildId: `b${i}`,
          instance: 'default-debian-12',
          verification: null,
          createdAt: `2026-03-0${i + 1}T00:00:00Z`,
          sizeBytes: 1,
          virtualSizeBytes: 1,
          sha256: '0'.repeat(64),
          format: 'qcow2',
        };
        await mkdir(store, { recursive: true });
        await execa('qemu-img', ['create', '-q', '-f', 'qcow2', imagePath(img, store), '1M']);
        await writeImageEntry(img, store);
        made.push(img);
      }
      const e = { CI: '1', HALLMARK_IMAGE_STORE: store };
      const none = await hallmark(cwd, ['images', 'prune', '--keep', '1'], e);
      expect(none.exitCode, none.all).toBe(2);
      expect(none.all).toContain('--family');
      const r = await hallmark(cwd, ['images', 'prune', '--family', 'web', '--keep', '2'], e);
      expect(r.exitCode, r.all).toBe(0);
      expect(r.stdout).toContain(`qemu image.keep 2 of family web: local: removed ${made[0]!.id}`);
      expect((await listImages(store)).map((i) => i.id)).toEqual([made[1]!.id, made[2]!.id, made[3]!.id]);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
