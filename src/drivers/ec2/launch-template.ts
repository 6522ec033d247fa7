import {
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeLaunchTemplatesCommand,
  ModifyLaunchTemplateCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import type { LaunchTemplateTarget } from '../../config/types.js';
import type { Logger } from '../../kernel/events.js';
import type { TemplateVersionRecord } from '../../kernel/journal.js';
import { awsCode, Ec2Error, isNotFound, wrapAws } from './aws-errors.js';
import { clientToken } from './launch.js';

export type { TemplateVersionRecord };

const label = (t: { name?: string; id?: string }) => t.name ?? t.id ?? '?';
const templateParams = (t: { name?: string; id?: string }) => (t.id ? { LaunchTemplateId: t.id } : { LaunchTemplateName: t.name });

/** The template's id and default version; a clear error when it does not exist in the region. */
export async function describeTemplate(client: EC2Client, region: string, t: { name?: string; id?: string }, signal: AbortSignal) {
  try {
    const out = await client.send(
      new DescribeLaunchTemplatesCommand(t.id ? { LaunchTemplateIds: [t.id] } : { LaunchTemplateNames: [t.name!] }),
      { abortSignal: signal },
    );
    const lt = out.LaunchTemplates?.[0];
    if (lt) return { id: lt.LaunchTemplateId!, name: lt.LaunchTemplateName!, defaultVersion: lt.DefaultVersionNumber!, latestVersion: lt.LatestVersionNumber! };
  } catch (err) {
    if (!isNotFound(err) && !/NotFound/.test(awsCode(err) ?? '')) throw wrapAws(err, `DescribeLaunchTemplates ${label(t)}`, region);
  }
  throw new Ec2Error(`launch template ${label(t)} does not exist in ${region}`, {
    region,
    hint: 'create it first (hallmark adds versions to a template, it does not create one), or fix distribute.launch_templates',
  });
}

/**
 * Adds a version naming `imageId` to the template, based on its default
 * version (so everything else instances launch with stays as it is), and
 * makes it the default when `setDefault`. `record` is called with the
 * intention before the call and with the version once it exists. The
 * ClientToken makes a retried call return the same version.
 */
export async function createTemplateVersion(
  client: EC2Client,
  a: { region: string; target: LaunchTemplateTarget; imageId: string; buildId: string; log: Logger; signal: AbortSignal; record: (r: TemplateVersionRecord) => Promise<void> },
): Promise<TemplateVersionRecord> {
  const lt = await describeTemplate(client, a.region, a.target, a.signal);
  const rec: TemplateVersionRecord = {
    region: a.region,
    template: { name: a.target.name, id: a.target.id },
    templateId: lt.id,
    imageId: a.imageId,
    previousDefault: lt.defaultVersion,
    setDefault: a.target.set_default,
  };
  await a.record(rec);
  try {
    const out = await client.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: lt.id,
        SourceVersion: String(lt.defaultVersion),
        VersionDescription: `hallmark build ${a.buildId}: ${a.imageId}`.slice(0, 255),
        LaunchTemplateData: { ImageId: a.imageId },
        ClientToken: clientToken(a.buildId, 'lt', lt.id, a.imageId),
      }),
      // Not a.signal: the answer (the version) must be recorded even when the run is being cancelled.
    );
    rec.version = out.LaunchTemplateVersion?.VersionNumber;
  } catch (err) {
    throw wrapAws(err, `CreateLaunchTemplateVersion ${label(a.target)}`, a.region, 'the build needs ec2:CreateLaunchTemplateVersion and ec2:ModifyLaunchTemplate on the template');
  }
  if (rec.version === undefined) throw new Ec2Error(`CreateLaunchTemplateVersion ${label(a.target)} returned no version`, { region: a.region });
  await a.record(rec);
  if (a.target.set_default) {
    try {
      await client.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: lt.id, DefaultVersion: String(rec.version) }), { abortSignal: a.signal });
    } catch (err) {
      throw wrapAws(err, `ModifyLaunchTemplate ${label(a.target)} (default version ${rec.version})`, a.region);
    }
  }
  a.log.info(`launch template ${lt.name} in ${a.region}: version ${rec.version} = ${a.imageId}${a.target.set_default ? ' (default)' : ''}`);
  return rec;
}

/**
 * Undoes createTemplateVersion: where this build's version is the default,
 * the previous default is restored; then the version is deleted. A template
 * or version already gone counts as undone; a default someone else set since
 * is left alone. Idempotent.
 */
export async function deleteTemplateVersion(client: EC2Client, r: TemplateVersionRecord, log: Logger, signal: AbortSignal): Promise<void> {
  const t = r.templateId ? { id: r.templateId } : r.template;
  let lt;
  try {
    lt = await describeTemplate(client, r.region, t, signal);
  } catch (err) {
    if (err instanceof Ec2Error && /does not exist/.test(err.message)) return;
    throw err;
  }
  if (r.version === undefined) {
    // The call never answered; EC2 cannot be asked what a ClientToken made.
    log.warn(`launch template ${lt.name} in ${r.region}: a version for ${r.imageId} may exist (its creation did not answer); check its versions`);
    return;
  }
  if (lt.defaultVersion === r.version && r.previousDefault !== undefined) {
    try {
      await client.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: lt.id, DefaultVersion: String(r.previousDefault) }), { abortSignal: signal });
    } catch (err) {
      throw wrapAws(err, `putting back default version ${r.previousDefault} of launch template ${lt.name}`, r.region);
    }
    log.info(`launch template ${lt.name} in ${r.region}: default version ${r.previousDefault} again`);
  }
  try {
    const out = await client.send(new DeleteLaunchTemplateVersionsCommand({ ...templateParams({ id: lt.id }), Versions: [String(r.version)] }), { abortSignal: signal });
    const refused = out.UnsuccessfullyDeletedLaunchTemplateVersions?.[0];
    if (refused && !/NotFound/i.test(refused.ResponseError?.Code ?? '')) {
      throw new Ec2Error(`launch template ${lt.name} in ${r.region}: version ${r.version} was not deleted: ${refused.ResponseError?.Message ?? refused.ResponseError?.Code}`, {
        region: r.region,
        hint: `delete it later with: aws ec2 delete-launch-template-versions --region ${r.region} --launch-template-id ${lt.id} --versions ${r.version}`,
      });
    }
  } catch (err) {
    if (isNotFound(err)) return;
    throw wrapAws(err, `DeleteLaunchTemplateVersions ${lt.name} ${r.version}`, r.region);
  }
  log.info(`launch template ${lt.name} in ${r.region}: deleted version ${r.version}`);
}
