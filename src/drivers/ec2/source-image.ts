import { DescribeImagesCommand, type EC2Client, type Filter, type Image } from '@aws-sdk/client-ec2';
import { Ec2Error, wrapAws } from './aws-errors.js';
import type { Ec2Options } from './schema.js';
import { platformSearch, sortImages } from './standard-platform.js';

/**
 * Resolves the machine's base image to exactly one AMI, as kitchen-ec2 does:
 * `image_id` as given (it must exist and be available); else the images
 * matching `image_search`, or with neither, the search kitchen-ec2 makes for
 * the platform's name (`ubuntu-22.04`: Canonical's 22.04 images; see
 * standard-platform.ts); then the first in kitchen-ec2's order. Without a
 * `platform` (callers outside an instance) an image_search takes the newest.
 */
export async function resolveSourceImage(client: EC2Client, region: string, o: Ec2Options, signal: AbortSignal, platform?: string): Promise<Image> {
  if (o.image_id) {
    let images: Image[];
    try {
      const out = await client.send(new DescribeImagesCommand({ ImageIds: [o.image_id] }), { abortSignal: signal });
      images = out.Images ?? [];
    } catch (err) {
      if ((err as { name?: string }).name === 'InvalidAMIID.NotFound') images = [];
      else throw wrapAws(err, `DescribeImages ${o.image_id}`, region);
    }
    const img = images[0];
    if (!img) {
      throw new Ec2Error(`image_id ${o.image_id} does not exist in ${region} (or this account may not use it)`, {
        region,
        hint: 'AMI ids differ per region: look the id up in this region, or use image_search',
      });
    }
    if (img.State && img.State !== 'available') {
      throw new Ec2Error(`image_id ${o.image_id} in ${region} is ${img.State}, not available`, { region });
    }
    return img;
  }
  if (platform !== undefined) {
    const { platform: standard, fallback } = platformSearch(platform);
    const search = o.image_search ?? standard.search;
    const images = await describeAll(client, region, search, signal);
    if (images.length === 0 && o.image_search) {
      throw new Ec2Error(`image_search found no available image in ${region} matching ${JSON.stringify(search)}`, {
        region,
        hint: 'check the owner id and the name pattern (wildcards: * and ?) with `aws ec2 describe-images --owners ... --filters Name=name,Values=...`',
      });
    }
    if (images.length === 0) {
      const why = fallback
          ? `the platform name "${platform}" (not one kitchen-ec2 knows, so it searches as for ubuntu)`
          : `the platform name "${platform}" (kitchen-ec2's search for ${standard.name}${standard.version ? ` ${standard.version}` : ''}${standard.architecture ? ` ${standard.architecture}` : ''})`;
      throw new Ec2Error(`no available image in ${region} matches ${why}: ${JSON.stringify(search)}`, {
        region,
        hint: 'set image_id or image_search in the driver block of this platform, or name the platform as kitchen-ec2 does (ubuntu-22.04, debian-12, amazon2023, rhel-9, windows-2022, ...)',
      });
    }
    return sortImages(images, standard.name)[0]!;
  }
  if (o.image_search) return searchNewest(client, region, o.image_search, signal);
  throw new Ec2Error('the ec2 driver needs a source image: neither image_id nor image_search is set', {
    hint: 'set `image_id: ami-...` or `image_search: { owner-id: ..., name: ... }` in the driver block of this platform',
  });
}

async function describeAll(client: EC2Client, region: string, search: Record<string, string | string[]>, signal: AbortSignal): Promise<Image[]> {
  const params = searchParams(search);
  const images: Image[] = [];
  let NextToken: string | undefined;
  try {
    do {
      const out = await client.send(new DescribeImagesCommand({ ...params, NextToken }), { abortSignal: signal });
      images.push(...(out.Images ?? []));
      NextToken = out.NextToken;
    } while (NextToken);
  } catch (err) {
    throw wrapAws(err, 'DescribeImages for the source image', region);
  }
  return images;
}

/** `owner-id`/`owner`/`owners` become the Owners parameter; every other key is a filter. */
export function searchParams(search: Record<string, string | string[]>): { Owners?: string[]; Filters: Filter[] } {
  const Owners: string[] = [];
  const Filters: Filter[] = [];
  for (const [key, value] of Object.entries(search)) {
    const values = Array.isArray(value) ? value : [value];
    if (key === 'owner-id' || key === 'owner' || key === 'owners' || key === 'owner-alias') Owners.push(...values);
    else Filters.push({ Name: key, Values: values });
  }
  if (!Filters.some((f) => f.Name === 'state')) Filters.push({ Name: 'state', Values: ['available'] });
  return { Owners: Owners.length ? Owners : undefined, Filters };
}

export async function searchNewest(client: EC2Client, region: string, search: Record<string, string | string[]>, signal: AbortSignal): Promise<Image> {
  const images = await describeAll(client, region, search, signal);
  if (images.length === 0) {
    throw new Ec2Error(`image_search found no available image in ${region} matching ${JSON.stringify(search)}`, {
      region,
      hint: 'check the owner id and the name pattern (wildcards: * and ?) with `aws ec2 describe-images --owners ... --filters Name=name,Values=...`',
    });
  }
  // Newest first; ties broken by name so the choice is deterministic.
  images.sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? '') || (b.Name ?? '').localeCompare(a.Name ?? ''));
  return images[0]!;
}
