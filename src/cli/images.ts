import { EventBus } from '../kernel/events.js';
import { ConfigError, UsageError, type ExitCode } from '../kernel/errors.js';
import { attachRenderer, chooseMode } from './render.js';
import { installSignalHandlers } from './signals.js';
import { out, selected, table, type GlobalOptions } from './context.js';
import { tmpdir } from 'node:os';
import path from 'node:path';

const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;

/** `hallmark base build NAME`: a bootable Debian qcow2 from Debian's mirror. */
export async function baseBuild(name: string, o: GlobalOptions & { cloudInit?: boolean; force?: boolean; mirror?: string }): Promise<ExitCode> {
  const base = await import('../drivers/qemu/base/index.js');
  if (!base.isDistro(name)) throw new UsageError(`unknown base image "${name}"`, { hint: `available: ${Object.keys(base.DISTROS).join(', ')}` });
  const events = new EventBus();
  const stop = await attachRenderer(events, chooseMode(o), { verbose: o.verbose });
  const imageName = base.baseImageName(name, o.cloudInit ?? false);
  const signals = installSignalHandlers(() => undefined, () => base.findBuildLeftovers(base.defaultCacheDir(), imageName).then((l) => describeBuildLeftovers(l, `hallmark base build ${name}${o.cloudInit ? ' --cloud-init' : ''}`)));
  const t0 = Date.now();
  events.emit({ type: 'action-start', instance: name, action: 'base build' });
  try {
    const info = await base.buildBaseImage({ distro: name, cloudInit: o.cloudInit, force: o.force, mirror: o.mirror, signal: signals.signal, log: events.logger(name) });
    events.emit({ type: 'action-end', instance: name, action: 'base build', ok: true, durationMs: Date.now() - t0 });
    stop();
    out(o.json ? JSON.stringify(info) : `${info.name}: ${base.baseImageFile(base.defaultCacheDir(), info)} sha256 ${info.sha256} (${mib(info.sizeBytes)})`);
    return 0;
  } catch (err) {
    events.emit({ type: 'action-end', instance: name, action: 'base build', ok: false, durationMs: Date.now() - t0, error: (err as Error).message });
    stop();
    throw err;
  } finally {
    signals.dispose();
  }
}

/** The second Ctrl-C's report on an interrupted base build: what is left, and the commands that remove it. */
function describeBuildLeftovers(l: import('../drivers/qemu/base/index.js').BuildLeftovers, again: string): string {
  if (!l.workDirs.length) return 'exiting now; nothing is left behind\n';
  const lines = [
    ...l.processes.map((p) => `  process ${p.pid} (${p.command})`),
    ...l.mounts.map((m) => `  mount ${m}`),
    ...l.loops.map((d) => `  loop device ${d.device} (${d.file})`),
    ...l.workDirs.map((d) => `  directory ${d}`),
  ];
  const cmds = [
    ...(l.processes.length ? [`kill -9 ${l.processes.map((p) => p.pid).join(' ')}`] : []),
    // mountsUnder lists the deepest first: unmount in that order.
    ...l.mounts.map((m) => `umount -l ${m}`),
    ...l.loops.map((d) => `losetup -d ${d.device}`),
    `rm -rf ${l.workDirs.join(' ')}`,
  ];
  return (
    `exiting now; the interrupted base build left:\n${lines.join('\n')}\n` +
    `remove them with:\n${cmds.map((c) => `  ${c}`).join('\n')}\nor run \`${again}\` again: it removes them first\n`
  );
}

export async function baseList(o: GlobalOptions): Promise<ExitCode> {
  const base = await import('../drivers/qemu/base/index.js');
  const all = await base.listBaseImages();
  if (o.json) out(JSON.stringify(all, null, 2));
  else if (!all.length) out('no base images; build one with: hallmark base build debian-12');
  else {
    out(table([['Name', 'Distro', 'Size', 'Created', 'SHA256', 'Recipe', 'Path'], ...all.map((b) => [b.info.name, b.info.distro, mib(b.info.sizeBytes), b.info.createdAt, b.info.sha256.slice(0, 16), b.stale ? 'outdated' : 'current', b.path])]));
    for (const b of all) if (b.stale) process.stderr.write(`warning: ${b.stale}\n`);
  }
  return 0;
}

export async function imagesList(o: GlobalOptions): Promise<ExitCode> {
  const store = await import('../drivers/qemu/store.js');
  const all = await store.listImages();
  if (o.json) out(JSON.stringify(all, null, 2));
  else if (!all.length) out(`no images in ${store.defaultStoreDir()}`);
  else out(table([['Id', 'Name', 'Instance', 'Size', 'Created', 'Verification'], ...all.map((i) => [i.id, i.name, i.instance, mib(i.sizeBytes), i.createdAt, (i.verification ?? '-').slice(0, 16)])]));
  return 0;
}

export async function imagesRm(ids: string[], _o: GlobalOptions): Promise<ExitCode> {
  const store = await import('../drivers/qemu/store.js');
  let missing = 0;
  for (const id of ids) {
    const img = await store.getImage(id);
    if (!img || !(await store.removeImage(img.id))) {
      process.stderr.write(`no image ${id}\n`);
      missing++;
    } else out(`removed ${img.id} (${img.name})`);
  }
  return missing ? 4 : 0;
}

/**
 * `hallmark images prune [REGEX] [--family F] --keep N [--dry-run]`: keep-N
 * on demand for the project's instances (ec2 regions, the local store for
 * qemu), or with no project, for the local store's family F.
 */
export async function imagesPrune(pattern: string | undefined, o: GlobalOptions & { family?: string; keep: string; dryRun?: boolean }): Promise<ExitCode> {
  const keep = Number(o.keep);
  const m = await import('../pipeline/prune.js');
  const { pruneSummary } = await import('../pipeline/image-lifecycle.js');
  const events = new EventBus();
  const stop = await attachRenderer(events, chooseMode(o), { verbose: o.verbose });
  const signals = installSignalHandlers(() => undefined);
  const common = { family: o.family, keep, dryRun: o.dryRun ?? false, events, signal: signals.signal };
  let done;
  try {
    const here = await selected(o, pattern).catch((err: unknown) => {
      // No config file: the local store alone (--family says which images).
      if (err instanceof ConfigError && !o.config && err.problems.some((p) => /no configuration file found/.test(p.message))) return undefined;
      throw err;
    });
    done = here ? await m.pruneProjectImages(here.project, here.entries, common) : await m.pruneLocalStore({ ...common, log: events.logger('images') });
  } finally {
    stop();
    signals.dispose();
  }
  // JSON lines: the progress events, then the result as the last line.
  if (o.json) out(JSON.stringify(done));
  else {
    for (const f of done) {
      out(`${f.driver} ${pruneSummary(f.family, keep, f.results, common.dryRun)}`);
      for (const r of f.results) for (const i of r.inUse) out(`  ${r.region}: ${i.id} stays: ${i.reason}`);
    }
  }
  return 0;
}

/**
 * `hallmark distribute IMAGE_ID --from R --to R1,R2 --accounts A,B
 * [--ssm-parameter NAME] [--launch-template NAME|lt-ID[@REGION]]...`: copy an
 * existing AMI, then commit as a build does; all or nothing.
 */
export async function distributeCommand(
  imageId: string,
  o: GlobalOptions & { from: string; to?: string; accounts?: string; endpoint?: string; concurrency?: string; keepOnFailure?: boolean; ssmParameter?: string; launchTemplate?: string[] },
): Promise<ExitCode> {
  const split = (s?: string) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);
  const { distributeExistingImage } = await import('../pipeline/distribute.js');
  const events = new EventBus();
  const detach = await attachRenderer(events, chooseMode(o), { verbose: o.verbose });
  let attached = true;
  const stop = () => {
    if (attached) detach();
    attached = false;
  };
  const signals = installSignalHandlers(() => undefined);
  try {
    const r = await distributeExistingImage({
      imageId,
      from: o.from,
      to: split(o.to),
      accounts: split(o.accounts),
      concurrency: o.concurrency ? Number(o.concurrency) : undefined,
      ssmParameter: o.ssmParameter,
      launchTemplates: o.launchTemplate ?? [],
      driverOptions: o.endpoint ? { endpoint: o.endpoint } : {},
      keepOnFailure: o.keepOnFailure,
      stateDir: path.join(tmpdir(), 'hallmark-distribute'),
      projectDir: process.cwd(),
      events,
      signal: signals.signal,
    });
    stop();
    if (o.json) out(JSON.stringify(r));
    else {
      out(r.copies.map((c) => `${c.region}: ${c.id}`).join('\n') || 'shared; no copies');
      for (const p of r.parameters ?? []) out(`SSM parameter ${p.name} in ${p.region}: version ${p.version} = ${p.value}`);
      for (const t of r.launchTemplates ?? []) out(`launch template ${t.template} in ${t.region}: version ${t.version} = ${t.imageId}${t.default ? ' (default)' : ''}`);
    }
    return 0;
  } finally {
    stop();
    signals.dispose();
  }
}
