import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient, type Parameter } from '@aws-sdk/client-ssm';
import { throwIfAborted } from '../../kernel/abort.js';
import { isAbortError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/events.js';
import type { ImageRecord, Journal, ParameterRecord } from '../../kernel/journal.js';
import { awsCode, Ec2Error, wrapAws } from './aws-errors.js';
import { RegionalClients, type ClientSettings } from './clients.js';
import { mapBounded, throwFirstFailure } from './distribute.js';
import { pollUntil } from './wait.js';

/**
 * publish.ssm_parameter with the ec2 driver: each region's AMI id goes to the
 * parameter in that region, as Type String with DataType `aws:ec2:image` (so
 * that launch templates and `resolve:ssm:` can use it; moto accepts the data
 * type, and real Parameter Store validates the AMI before the version shows).
 * The SSM clients share the EC2 clients' endpoint, credentials and retries.
 * This module is imported only when a build has a parameter to write.
 */
export const PARAMETER_DATA_TYPE = 'aws:ec2:image';

export class SsmClients extends RegionalClients<SSMClient> {
  constructor(settings: ClientSettings) {
    super(settings, 'ssm', (config) => new SSMClient(config));
  }
}

const notThere = (err: unknown) => awsCode(err) === 'ParameterNotFound' || awsCode(err) === 'ParameterVersionNotFound';

/** The parameter's current version in a region, or undefined when there is none. Read-only. */
export async function currentParameter(client: SSMClient, region: string, name: string, signal: AbortSignal): Promise<Parameter | undefined> {
  try {
    return (await client.send(new GetParameterCommand({ Name: name }), { abortSignal: signal })).Parameter;
  } catch (err) {
    if (notThere(err)) return undefined;
    throw wrapAws(err, `GetParameter ${name}`, region, 'the build needs ssm:GetParameter and ssm:PutParameter on the parameter');
  }
}

/**
 * prepare: problems with writing `name` in `regions`, before money is spent:
 * the parameter cannot be read (permissions), or it exists with another type
 * (a SecureString or StringList the build would clobber).
 */
export async function parameterProblems(clients: SsmClients, regions: string[], name: string, signal: AbortSignal): Promise<string[]> {
  const problems: string[] = [];
  for (const region of regions) {
    throwIfAborted(signal);
    try {
      const p = await currentParameter(clients.get(region), region, name, signal);
      if (p && p.Type !== 'String') {
        problems.push(`SSM parameter ${name} in ${region} is a ${p.Type}; publish.ssm_parameter writes a String: choose another name, or delete it (aws ssm delete-parameter --region ${region} --name ${name})`);
      }
    } catch (err) {
      if (isAbortError(err)) throw err;
      problems.push(`SSM parameter ${name} in ${region} cannot be read: ${(err as Error).message}`);
    }
  }
  return problems;
}

export interface PublishArgs {
  clients: SsmClients;
  images: ImageRecord[];
  name: string;
  journal: Journal;
  log: Logger;
  signal: AbortSignal;
  concurrency: number;
  /** Polling of the read-back (Parameter Store validates an aws:ec2:image value before the version is visible). */
  delayMs: number;
  maxWaitMs: number;
}

/**
 * Writes each image's id to the parameter in the image's region, at most
 * `concurrency` regions at once. Per region: read what is there, journal it
 * with the value to write (so a crash can be undone), PutParameter with
 * Overwrite, journal the version, read that version back. Waits for every
 * started write to answer before it throws the first failure, so every write
 * that happened is in the journal for the pipeline's `unpublish`.
 */
export async function publishParameter(a: PublishArgs): Promise<ParameterRecord[]> {
  const results = await mapBounded(a.images, Math.max(1, a.concurrency), (image) => writeOne(a, image));
  return throwFirstFailure(results, a.signal, a.log, 'writing the SSM parameter');
}

async function writeOne(a: PublishArgs, image: ImageRecord): Promise<ParameterRecord> {
  const region = image.region;
  if (!region) throw new Ec2Error(`image ${image.id} has no recorded region; cannot write ${a.name}`);
  throwIfAborted(a.signal);
  const client = a.clients.get(region);
  const before = await currentParameter(client, region, a.name, a.signal);
  if (before && before.Type !== 'String') {
    throw new Ec2Error(`SSM parameter ${a.name} in ${region} is a ${before.Type}, not a String; it was left as it is`, {
      region,
      hint: 'choose another publish.ssm_parameter, or delete the parameter',
    });
  }
  const record: ParameterRecord = {
    name: a.name,
    region,
    value: image.id,
    previous: before ? { value: before.Value!, version: before.Version!, dataType: before.DataType } : null,
  };
  await a.journal.recordParameter(record);
  throwIfAborted(a.signal);
  let version: number;
  try {
    const out = await client.send(
      new PutParameterCommand({ Name: a.name, Value: image.id, Type: 'String', DataType: PARAMETER_DATA_TYPE, Overwrite: true }),
      // Not a.signal: the answer (the version) must be journaled even when the run is being cancelled.
    );
    version = out.Version!;
  } catch (err) {
    throw wrapAws(err, `PutParameter ${a.name}`, region, 'the build needs ssm:PutParameter on the parameter (and the AMI must be in this account and region)');
  }
  record.version = version;
  await a.journal.recordParameter(record);
  a.log.info(`${a.name} in ${region}: version ${version} = ${image.id}${before ? ` (was ${before.Value}, version ${before.Version})` : ' (new)'}`);

  // The write counts once that version reads back with this image: Parameter
  // Store shows an aws:ec2:image version only after it validated the AMI.
  await pollUntil(
    `${a.name} version ${version} in ${region}`,
    region,
    async () => {
      try {
        const p = (await client.send(new GetParameterCommand({ Name: `${a.name}:${version}` }), { abortSignal: a.signal })).Parameter;
        if (p?.Value !== undefined && p.Value !== image.id) {
          throw new Ec2Error(`SSM parameter ${a.name} version ${version} in ${region} reads back ${p.Value}, not ${image.id}`, { region });
        }
        return p;
      } catch (err) {
        if (notThere(err)) return undefined;
        throw err;
      }
    },
    { delayMs: a.delayMs, maxWaitMs: a.maxWaitMs, signal: a.signal, log: a.log },
  );
  return record;
}

/**
 * Puts back what each journaled write replaced. Only where the parameter
 * still holds this build's write (its version, or its value when the version
 * never came back) is the previous value written again (as a new version:
 * Parameter Store cannot delete one) or the parameter deleted (when the build
 * created it). A parameter someone else wrote since is left alone. Each
 * record is forgotten once handled; errors are collected, never stopping
 * half way.
 */
export async function unpublishParameters(a: { clients: SsmClients; records: ParameterRecord[]; journal: Journal; log: Logger; signal: AbortSignal }): Promise<void> {
  const errors: unknown[] = [];
  for (const r of a.records) {
    try {
      await undoOne(a, r);
      await a.journal.forgetParameter(r.name, r.region);
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `could not put back ${errors.length} SSM parameter(s); see hallmark cleanup`);
}

async function undoOne(a: { clients: SsmClients; log: Logger; signal: AbortSignal }, r: ParameterRecord): Promise<void> {
  const client = a.clients.get(r.region);
  const now = await currentParameter(client, r.region, r.name, a.signal);
  const ours = now !== undefined && (r.version !== undefined ? now.Version === r.version : now.Value === r.value);
  if (!ours) {
    if (now && r.version !== undefined && (now.Version ?? 0) > r.version) a.log.warn(`${r.name} in ${r.region} was written again since this build (version ${now.Version}); leaving it`);
    return;
  }
  try {
    if (r.previous) {
      const out = await client.send(
        new PutParameterCommand({ Name: r.name, Value: r.previous.value, Type: 'String', DataType: r.previous.dataType, Overwrite: true }),
        { abortSignal: a.signal },
      );
      a.log.info(`${r.name} in ${r.region}: put back ${r.previous.value} (version ${out.Version}, as version ${r.previous.version} was)`);
    } else {
      await client.send(new DeleteParameterCommand({ Name: r.name }), { abortSignal: a.signal });
      a.log.info(`${r.name} in ${r.region}: deleted (this build had created it)`);
    }
  } catch (err) {
    if (notThere(err)) return;
    throw wrapAws(err, `putting back SSM parameter ${r.name}`, r.region, `check it with: aws ssm get-parameter-history --region ${r.region} --name ${r.name}`);
  }
}
