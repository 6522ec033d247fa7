/**
 * The seed's tag rule, end to end through the CLI against moto: the seed's
 * Rakefile tags the AMI with the EC2 instance's tags
 * (`image.create_tags(tags: ec2_instance.tags)`) and each copy with its
 * source image's tags. The configured driver `tags` (a kitchen-ec2 `Name`
 * among them) win over hallmark's defaults on the instance, and the AMI,
 * every copy and all their snapshots carry the instance's tags, image.tags
 * and the provenance tags.
 */
import { DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, type Moto } from '../helpers/moto.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { builtImages, cliEnv, hallmark, INSTANCE, instances, makeProject, REGIONS, seedBaseImage, tagMap, type Project } from '../fixtures/ec2-e2e/project.js';

let sshd: Sshd;
let moto: Moto;
let project: Project;

beforeAll(async () => {
  sshd = await startSshd();
  moto = await startMoto();
  await seedBaseImage(moto);
  project = await makeProject({ edit: (yml) => yml.replace(/^ {2}tags:\n {4}team: e2e\n/m, '  tags:\n    team: e2e\n    Name: centos7-secure\n    created_by: test-kitchen\n') });
});
afterAll(async () => {
  await project?.cleanup();
  await moto?.stop();
  await sshd?.stop();
});

async function snapshotTags(region: string, ids: string[]): Promise<Record<string, Record<string, string>>> {
  const c = new EC2Client({ region, endpoint: moto.endpoint, credentials: moto.credentials, maxAttempts: 1 });
  try {
    const out = await c.send(new DescribeSnapshotsCommand({ SnapshotIds: ids }));
    return Object.fromEntries((out.Snapshots ?? []).map((s) => [s.SnapshotId!, tagMap(s.Tags as { Key: string; Value: string }[])]));
  } finally {
    c.destroy();
  }
}

describe('the seed-style build tags the AMI and every copy with the instance tags', () => {
  it('configured Name and created_by on the instance, the AMI, each copy and every snapshot, with image.tags and provenance', async () => {
    const r = await hallmark(project.dir, ['build'], cliEnv(moto, sshd, moto.endpoint, 'e2e-tags', project.dir));
    expect(r.exitCode, r.all).toBe(0);

    const [inst] = await instances(moto, 'us-east-1');
    const instanceTags = tagMap(inst!.Tags);
    // The configured Name wins over hallmark's default (the instance name).
    expect(instanceTags).toMatchObject({ Name: 'centos7-secure', created_by: 'test-kitchen', team: 'e2e', 'hallmark:instance': INSTANCE });
    const buildId = instanceTags['hallmark:build-id'];
    expect(buildId).toMatch(/\S/);
    // hallmark:machine is the machine's lifetime (the orphan reaper's mark), not something an image has.
    const { 'hallmark:machine': lifetime, ...carried } = instanceTags;
    expect(lifetime).toBe('build');

    for (const region of REGIONS) {
      const [img] = await builtImages(moto, region);
      expect(img, region).toBeDefined();
      const tags = tagMap(img!.Tags);
      // Every tag of the instance, then image.tags and the provenance.
      expect(tags, region).toMatchObject(carried);
      expect(tags['hallmark:machine'], region).toBeUndefined();
      expect(tags, region).toMatchObject({ role: 'e2e', 'hallmark:build-id': buildId, 'hallmark:instance': INSTANCE });
      expect(tags['hallmark:verification'], region).toMatch(/\S/);
      if (region !== 'us-east-1') expect(tags['hallmark:source-image'], region).toMatch(/^us-east-1\/ami-/);
      const snaps = (img!.BlockDeviceMappings ?? []).flatMap((b) => (b.Ebs?.SnapshotId ? [b.Ebs.SnapshotId] : []));
      expect(snaps.length, region).toBeGreaterThan(0);
      const bySnap = await snapshotTags(region, snaps);
      for (const s of snaps) expect(bySnap[s], `${region} ${s}`).toMatchObject({ ...carried, role: 'e2e', 'hallmark:state': 'published' });
    }
  }, 180_000);
});
