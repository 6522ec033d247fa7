import { CreateKeyPairCommand, DeleteKeyPairCommand, DescribeKeyPairsCommand, type EC2Client, type Tag } from '@aws-sdk/client-ec2';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Ec2Error, isNotFound, wrapAws } from './aws-errors.js';

/** Directory of an instance's local key material: `.hallmark/ec2/<instance>/`. */
export function keyDir(stateDir: string, instance: string): string {
  return path.join(stateDir, 'ec2', instance);
}

/**
 * Makes a temporary ed25519 key pair (EC2 generates it; the private key never
 * exists anywhere else) and writes the private key 0600. `onCreated` journals
 * the key name the moment EC2 returns it, before the file is written.
 */
export async function createTemporaryKeyPair(
  client: EC2Client,
  region: string,
  args: { name: string; stateDir: string; instance: string; tags: Tag[]; signal: AbortSignal },
  onCreated: (keyName: string) => Promise<void>,
): Promise<string> {
  let material: string;
  try {
    const out = await client.send(
      new CreateKeyPairCommand({
        KeyName: args.name,
        KeyType: 'ed25519',
        KeyFormat: 'pem',
        TagSpecifications: [{ ResourceType: 'key-pair', Tags: args.tags }],
      }),
      // Not aborted midway: the answer is the only record of what it made.
    );
    material = out.KeyMaterial ?? '';
  } catch (err) {
    throw wrapAws(err, 'CreateKeyPair', region);
  }
  await onCreated(args.name);
  if (!material) throw new Ec2Error(`CreateKeyPair in ${region} returned no key material for ${args.name}`, { region });
  const dir = keyDir(args.stateDir, args.instance);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'id_ed25519');
  await writeFile(file, material.endsWith('\n') ? material : material + '\n', { mode: 0o600 });
  await chmod(file, 0o600); // mode is ignored when the file already existed
  return file;
}

/** Checks that a user-named key pair exists in the region (prepare). */
export async function keyPairExists(client: EC2Client, name: string, signal: AbortSignal): Promise<boolean> {
  try {
    const out = await client.send(new DescribeKeyPairsCommand({ KeyNames: [name] }), { abortSignal: signal });
    return (out.KeyPairs ?? []).length > 0;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Idempotent: a key pair that is already gone is fine. */
export async function deleteKeyPair(client: EC2Client, region: string, name: string, signal: AbortSignal): Promise<void> {
  try {
    await client.send(new DeleteKeyPairCommand({ KeyName: name }), { abortSignal: signal });
  } catch (err) {
    if (!isNotFound(err)) throw wrapAws(err, `DeleteKeyPair ${name}`, region);
  }
}

export async function removeKeyFiles(stateDir: string, instance: string): Promise<void> {
  await rm(keyDir(stateDir, instance), { recursive: true, force: true });
}
