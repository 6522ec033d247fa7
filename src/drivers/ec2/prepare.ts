import { DescribeRegionsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { throwIfAborted } from '../../kernel/abort.js';
import { HallmarkError } from '../../kernel/errors.js';
import { Ec2Error, wrapAws } from './aws-errors.js';
import type { Ec2Clients } from './clients.js';
import { ownImagesNamed } from './image-ops.js';
import { keyPairExists } from './key-pair.js';
import { amiNameProblem, type Ec2Options } from './schema.js';
import { resolveSourceImage } from './source-image.js';

export interface PrepareInput {
  options: Ec2Options;
  /** The instance's platform name: with no image_id/image_search, kitchen-ec2's search for it (standard-platform.ts). */
  platform?: string;
  clients: Ec2Clients;
  region: string;
  imageName?: string;
  /** Target regions of the copies. */
  regions: string[];
  accounts: string[];
  organizationArns: string[];
  ouArns: string[];
  /** publish.ssm_parameter: problems with writing it in these regions (see ssm-parameter.ts). */
  parameterProblems?: (regions: string[]) => Promise<string[]>;
  signal: AbortSignal;
}

const accountRe = /^\d{12}$/;
const orgArnRe = /^arn:aws[a-z-]*:organizations::\d{12}:organization\/o-[a-z0-9]{10,32}$/;
const ouArnRe = /^arn:aws[a-z-]*:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/;

/**
 * Everything checkable before money is spent, all of it collected into one
 * error so the user fixes the config once: regions exist (and are enabled),
 * share targets are well-formed, a named key pair exists, the source image
 * resolves to exactly one image, and the image name is free in the source
 * region and every target region (CreateImage/CopyImage would otherwise fail
 * after a whole build), and the SSM parameter to publish can be written there.
 * Read-only.
 */
export async function prepareEc2(p: PrepareInput): Promise<{ sourceImageId?: string }> {
  const problems: string[] = [];
  const client = p.clients.get(p.region);

  for (const a of p.accounts) if (!accountRe.test(a)) problems.push(`account id ${JSON.stringify(a)} is not 12 digits (distribute.accounts)`);
  for (const a of p.organizationArns) if (!orgArnRe.test(a)) problems.push(`${JSON.stringify(a)} is not an organization ARN like arn:aws:organizations::123456789012:organization/o-abcdefghij`);
  for (const a of p.ouArns) if (!ouArnRe.test(a)) problems.push(`${JSON.stringify(a)} is not an OU ARN like arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-ab12-cdefgh34`);

  const allRegions = [...new Set([p.region, ...p.regions])];
  const usable = await checkRegions(client, p.region, allRegions, problems, p.signal);

  if (p.options.aws_ssh_key_id) {
    try {
      if (!(await keyPairExists(client, p.options.aws_ssh_key_id, p.signal))) {
        problems.push(`key pair ${p.options.aws_ssh_key_id} (aws_ssh_key_id) does not exist in ${p.region}; import it there, or remove aws_ssh_key_id to use a temporary key pair`);
      }
    } catch (err) {
      throw wrapAws(err, 'DescribeKeyPairs', p.region);
    }
  }

  let sourceImageId: string | undefined;
  try {
    sourceImageId = (await resolveSourceImage(client, p.region, p.options, p.signal, p.platform)).ImageId;
  } catch (err) {
    if (!(err instanceof HallmarkError)) throw err;
    problems.push(err.message + (err.hint ? ` (${err.hint})` : ''));
  }

  const badName = p.imageName === undefined ? undefined : amiNameProblem(p.imageName);
  if (badName) problems.push(`image name ${JSON.stringify(p.imageName)} (image.name) is not a valid AMI name: expected ${badName}`);
  else if (p.imageName) {
    for (const region of allRegions.filter((r) => usable.has(r))) {
      throwIfAborted(p.signal);
      const taken = await ownImagesNamed(p.clients.get(region), region, p.imageName, p.signal);
      if (taken.length > 0) {
        problems.push(
          `image name ${JSON.stringify(p.imageName)} is already used in ${region} by ${taken.join(', ')}; ` +
            `add {{timestamp}} or {{build_id}} to image.name, or deregister the old image (aws ec2 deregister-image --region ${region} --image-id ${taken[0]})`,
        );
      }
    }
  }

  if (p.parameterProblems) problems.push(...(await p.parameterProblems(allRegions.filter((r) => usable.has(r)))));

  if (problems.length > 0) {
    throw new Ec2Error(`ec2 prepare found ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was launched:\n${problems.map((x) => `  - ${x}`).join('\n')}`, {
      hint: 'fix the configuration and run again',
    });
  }
  return { sourceImageId };
}

async function checkRegions(client: EC2Client, region: string, wanted: string[], problems: string[], signal: AbortSignal): Promise<Set<string>> {
  let known: Map<string, string | undefined>;
  try {
    const out = await client.send(new DescribeRegionsCommand({ AllRegions: true }), { abortSignal: signal });
    known = new Map((out.Regions ?? []).map((r) => [r.RegionName!, r.OptInStatus]));
  } catch (err) {
    throw wrapAws(err, 'DescribeRegions', region);
  }
  const usable = new Set<string>();
  for (const r of wanted) {
    if (!known.has(r)) {
      const near = [...known.keys()].filter((k) => k.split('-')[0] === r.split('-')[0]).slice(0, 6);
      problems.push(`region ${r} does not exist${near.length ? `; did you mean: ${near.join(', ')}` : ''}`);
    } else if (known.get(r) === 'not-opted-in') {
      problems.push(`region ${r} is not enabled for this account; enable it in the account settings or remove it from distribute.regions`);
    } else usable.add(r);
  }
  return usable;
}
