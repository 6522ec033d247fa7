import path from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { imageFamily, TAG_FAMILY } from '../config/image-family.js';
import { renderImageName } from '../config/image-name.js';
import { renderParameterName } from '../config/parameter-name.js';
import { loadPlugin } from '../plugins.js';
import { summarize } from '../verifiers/verifier.js';
import { resultsDigest } from '../verifiers/digest.js';
import { toJUnitXml } from '../verifiers/report/junit.js';
import { toResultsJson } from '../verifiers/report/json.js';
import { driverContext, type Captured, type CapturedRun, type Distributed, type DriverRun, type InstanceRun, type LoadedRun, type Plugins, type Prepared, type PreparedRun } from './context.js';
import { ConfigError, HallmarkError, VerificationFailedError } from '../kernel/errors.js';
import { Journal } from '../kernel/journal.js';
import type { Connection, ConnectionTarget } from '../transports/transport.js';
import type { Step } from './runner.js';
import { Chain, type OutputStep } from './chain.js';
import { missingCapabilities } from './plan.js';

import { STATE_PENDING, TAG_BUILD_ID, TAG_INSTANCE, TAG_STATE, TAG_VERIFICATION } from '../kernel/tags.js';

/** Provenance tags every image gets, besides the configured ones (their meaning: kernel/tags.ts). */
export { TAG_BUILD_ID, TAG_INSTANCE, TAG_VERIFICATION };

/** Loads the four plugins of the instance. Cheap; validates each block with its schema. */
export const loadPluginsStep: OutputStep<InstanceRun, { plugins: Plugins }> = {
  name: 'load',
  async run(run) {
    const i = run.instance;
    const p = run.plugins;
    const plugins: Plugins = {
      driver: p.driver ?? (await loadPlugin('driver', i.driver)),
      transport: p.transport ?? (await loadPlugin('transport', withAbsoluteKey(i.transport, i.projectDir))),
      provisioner: p.provisioner ?? (await loadPlugin('provisioner', i.provisioner)),
      verifier: p.verifier ?? (await loadPlugin('verifier', i.verifier)),
    };
    // A journal that still records another driver's machine keeps that
    // driver's name, so the driver refuses the record (StateFileError)
    // instead of reading it as no machine and forgetting it.
    await run.journal.update((s) => {
      if (Object.keys(s.driver).length === 0) s.driverName = i.driver.name;
    });
    return { plugins };
  },
};

/** The transport block with its key paths (`ssh_key`, `ssh_gateway_key`) absolute, `~/` expanded. */
export function withAbsoluteKey(block: InstanceRun['instance']['transport'], projectDir: string) {
  const b = { ...block };
  for (const k of ['ssh_key', 'ssh_gateway_key']) {
    const v = b[k];
    if (typeof v === 'string' && !path.isAbsolute(v)) b[k] = path.resolve(projectDir, v.replace(/^~(?=\/)/, process.env.HOME ?? '~'));
  }
  return b;
}


/**
 * `prepare`: checks what can be checked before anything is launched (build
 * only), and resolves the driver's images for the steps after it.
 */
export const prepareStep: OutputStep<LoadedRun, Prepared> = {
  name: 'prepare',
  async run(run, signal) {
    const driver = run.plugins.driver;
    const images = driver.images;
    // runAction refuses such an instance before it starts (plan.ts); this narrows the type, and guards other callers.
    if (!images) throw new ConfigError(missingCapabilities('build', run.instance, driver.capabilities));
    const imageName = renderImageName(run.instance.image.name, {
      suite: run.instance.suite,
      platform: run.instance.platform,
      instance: run.instance.name,
      build_id: run.buildId,
      timestamp: timestamp(),
    });
    const parameter = run.instance.publish.ssm_parameter;
    if (parameter !== undefined) {
      // The loader already refuses the option for a driver that cannot write it; this guards library callers.
      if (!driver.parameters) throw new HallmarkError(`driver "${driver.name}" cannot write publish.ssm_parameter`, { hint: 'remove publish.ssm_parameter for this instance' });
      run.parameterName = renderParameterName(parameter, { suite: run.instance.suite, platform: run.instance.platform, instance: run.instance.name });
    }
    // The controller's tools before the driver's checks: neither launches anything, and a missing tool is the cheaper to find.
    await run.plugins.provisioner.preflight?.({ instance: run.instance, signal });
    await run.plugins.verifier.preflight?.({ instance: run.instance, signal });
    await driver.machines.prepare?.(driverContext(run, signal), { imageName, regions: run.instance.distribute.regions, parameterName: run.parameterName });
    return { images, imageName };
  },
};

/**
 * `create`: makes the machine. In a build its cleanup always destroys the
 * machine; in the lifecycle verbs the machine outlives the command (Kitchen).
 */
export function createStep(opts: { destroyAfter: boolean }): Step<LoadedRun> {
  return {
    name: 'create',
    async run(run, signal) {
      if (run.journal.state.created && run.journal.state.driverName === run.instance.driver.name) {
        return { skipped: 'machine already created' };
      }
      await run.journal.update((s) => {
        s.buildId = run.buildId;
        s.created = false;
      });
      await run.plugins.driver.machines.create({ ...driverContext(run, signal), machine: opts.destroyAfter ? 'build' : 'kept' });
      await run.journal.update((s) => {
        s.created = true;
      });
    },
    cleanup: opts.destroyAfter
      ? async (run, _outcome, signal) => {
          await closeConnection(run);
          await destroyMachine(run, signal);
        }
      : async (run) => {
          await closeConnection(run);
        },
  };
}

export async function destroyMachine(run: DriverRun, signal: AbortSignal): Promise<void> {
  await run.plugins.driver.machines.destroy(driverContext(run, signal));
  await run.journal.resetMachine();
}

export async function closeConnection(run: InstanceRun): Promise<void> {
  const c = run.connection;
  run.connection = undefined;
  await c?.close().catch(() => {});
}

/**
 * Opens (or reuses) the connection to the machine; with the target as
 * reached (transport overrides applied, e.g. username), which provisioners
 * and verifiers see. Both are kept on the run for the next step.
 */
export async function connect(run: LoadedRun, signal: AbortSignal): Promise<{ connection: Connection; target: ConnectionTarget }> {
  if (run.connection && run.target) return { connection: run.connection, target: run.target };
  const { driver, transport } = run.plugins;
  const driverTarget = await driver.machines.connectionTarget(driverContext(run, signal));
  const target = transport.resolveTarget?.(driverTarget) ?? driverTarget;
  const connection = await transport.connect(driverTarget, { signal, log: run.log });
  Object.assign(run, { connection, target });
  return { connection, target };
}

export const convergeStep: Step<LoadedRun> = {
  name: 'converge',
  async run(run, signal) {
    const { connection, target } = await connect(run, signal);
    await run.plugins.provisioner.provision({
      instance: run.instance,
      connection,
      target,
      log: run.log,
      signal,
    });
    await run.journal.update((s) => {
      s.converged = true;
    });
  },
};

/** Kitchen's `setup` prepares the verifier; hallmark's verifiers need nothing on the machine, so it checks the connection. */
export const setupStep: Step<LoadedRun> = {
  name: 'setup',
  async run(run, signal) {
    await connect(run, signal);
    await run.journal.update((s) => {
      s.setUp = true;
    });
  },
};

export const verifyStep: Step<LoadedRun> = {
  name: 'verify',
  async run(run, signal) {
    const { connection, target } = await connect(run, signal);
    const report = await run.plugins.verifier.verify({ instance: run.instance, connection, target, log: run.log, signal });
    run.report = report;
    for (const r of report.results) {
      run.events.emit({ type: 'check', instance: run.instance.name, id: r.id, title: r.title, status: r.status, message: r.message });
    }
    const dir = path.join(run.stateDir, 'verify', run.instance.name);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'junit.xml'), toJUnitXml([report]));
    await writeFile(path.join(dir, 'results.json'), JSON.stringify(toResultsJson([report]), null, 2) + '\n');
    const s = summarize(report.results);
    run.log.info(`${s.passed} passed, ${s.failed} failed, ${s.errors} errors, ${s.skipped} skipped (${dir})`);
    const bad = report.results.filter((r) => r.status === 'fail' || r.status === 'error');
    if (report.results.length === 0) {
      // A verifier that checked nothing proves nothing: never let it pass an image.
      bad.push({ id: 'no-checks', resourceType: 'suite', resource: run.instance.suite, property: 'checks', title: 'at least one check', expected: '> 0 checks', found: '0 checks', status: 'error', message: 'the verifier ran no checks', durationMs: 0 });
    }
    await run.journal.update((st) => {
      st.verified = bad.length === 0;
    });
    if (bad.length > 0) {
      throw new VerificationFailedError(
        run.instance.name,
        bad.map((r) => ({ id: r.id, title: r.title, message: r.message ?? `expected ${r.expected}, found ${r.found}` })),
        report.results.length,
      );
    }
  },
};

/** Shuts the guest down cleanly so its disk is consistent and small (trimmed). */
async function shutdownOverSsh(run: LoadedRun, signal: AbortSignal): Promise<void> {
  const { connection: c } = await connect(run, signal);
  // fstrim makes freed blocks unallocated (the disk has discard=unmap), so capture copies less.
  // Host keys are removed and the machine-id emptied so every machine made from the image gets its
  // own (systemd makes a new id on a boot with an empty one; a shared id collides in DHCP client ids,
  // journald and anything keyed by it). /var/lib/dbus/machine-id is removed unless it links to it.
  // Then, in the same exec (a sudo less on a slow guest), --no-block queues the power-off and
  // returns, so the command ends before sshd goes; a connection dropped first does not matter
  // either: the driver judges the power-off by the machine stopping.
  await c.exec(
    'fstrim -a >/dev/null 2>&1 || true; rm -f /etc/ssh/ssh_host_*; if [ -s /etc/machine-id ]; then : >/etc/machine-id; fi; ' +
      'if [ -f /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then rm -f /var/lib/dbus/machine-id; fi; sync; ' +
      'systemctl --no-block poweroff >/dev/null 2>&1 || poweroff',
    { sudo: true, signal, timeoutMs: 120_000 },
  );
  await closeConnection(run);
}

/**
 * `capture`: makes the image. Its cleanup removes the image (and every copy)
 * only when the build failed or was cancelled: outputs stay on success. In a
 * build the cleanup is held until the commit (see commit.ts): a passing
 * instance's images go too when another instance or the commit fails.
 */
export const captureStep: OutputStep<PreparedRun, Captured> = {
  name: 'capture',
  output: true,
  async run(run, signal) {
    const i = run.instance;
    const tags: Record<string, string> = {
      ...i.image.tags,
      [TAG_BUILD_ID]: run.buildId,
      [TAG_INSTANCE]: i.name,
      // What image.keep counts (and `hallmark images prune` finds), whether or not keep is set now.
      [TAG_FAMILY]: imageFamily(i),
      // From the moment the image exists until the commit publishes it: what the orphan reaper keys on.
      [TAG_STATE]: STATE_PENDING,
    };
    if (run.report) tags[TAG_VERIFICATION] = resultsDigest(run.report);
    const image = await run.images.capture(driverContext(run, signal), {
      name: run.imageName,
      description: i.image.description,
      tags,
      shutdown: (s) => shutdownOverSsh(run, s),
    });
    run.events.emit({ type: 'resource', instance: i.name, kind: 'image', id: image.id, region: image.region });
    await run.journal.update((s) => {
      s.created = false; // the machine is powered off; destroy still removes it
    });
    return { image };
  },
  async cleanup(run, outcome, signal) {
    if (!outcome.failed) return;
    if (!run.instance.distribute.atomic && !outcome.cancelled && run.image) {
      // distribute.atomic: false — what was made stays (still journaled, so
      // `hallmark cleanup` can remove it); nothing is published either way.
      const kept = run.journal.state.images.map((i) => `${i.id}${i.region ? ` (${i.region})` : ''}`);
      run.log.warn(`distribute.atomic is false: keeping ${kept.join(', ')}; remove with hallmark cleanup`);
      return;
    }
    await deleteBuildImages(run, signal);
  },
};

/**
 * Removes every image and copy this build recorded, copies first. Collects
 * errors; never stops half way. Parameters and launch template versions this
 * build pointed at them are put back first, so that no reader is left with a
 * deleted image; when that fails the images stay too (still journaled, for
 * `hallmark cleanup`).
 */
export async function deleteBuildImages(run: DriverRun, signal: AbortSignal): Promise<void> {
  const driver = run.plugins.driver;
  await unpublishParameters(run, signal);
  await revertTemplateVersions(run, signal);
  const images = [...run.journal.state.images].sort((a, b) => (a.role === 'copy' ? -1 : 0) - (b.role === 'copy' ? -1 : 0));
  const errors: unknown[] = [];
  for (const image of images) {
    try {
      await driver.images?.deleteImage(driverContext(run, signal), image);
      await run.journal.forgetImage(image.id, image.region);
      run.log.info(`removed ${image.role} image ${image.id}${image.region ? ` (${image.region})` : ''}`);
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length) throw new AggregateError(errors, `could not remove ${errors.length} image(s); see hallmark cleanup`);
}

/** The instance name of the machine a boot test launches from `instance`'s image (its journal, logs and files). */
export function bootTestInstanceName(instance: string): string {
  return `${instance}-boot-test`;
}

/**
 * `boot-test` (image.boot_test): launches a second machine from the captured
 * image and runs the same verification on it, so the image itself — not only
 * the machine it was taken from — is proven. That machine is always destroyed.
 * It is an instance of its own (`<instance>-boot-test`): its own journal, so
 * `hallmark cleanup` finds it after a crash, and its own events, so its
 * create/verify neither replace the build machine's timings nor mix into its log.
 */
export const bootTestStep: Step<CapturedRun> = {
  name: 'boot-test',
  async run(run, signal) {
    if (!run.instance.image.boot_test) return { skipped: 'image.boot_test is off' };
    const image = run.image;
    const name = bootTestInstanceName(run.instance.name);
    const instance = { ...run.instance, name, driver: { ...run.instance.driver, ...run.images.bootFrom(image) } };
    const sub: LoadedRun = {
      ...run,
      instance,
      journal: await Journal.open(run.stateDir, name),
      log: run.events.logger(name),
      plugins: { ...run.plugins, driver: await loadPlugin('driver', instance.driver) },
      connection: undefined,
      target: undefined,
      report: undefined,
      bootTest: undefined,
    };
    run.bootTestDriver = sub.plugins.driver;
    if (sub.journal.state.created || Object.keys(sub.journal.state.driver).length > 0) {
      // A killed build's boot machine: never reuse it (it runs an older image).
      run.log.warn(`boot test: removing the machine an earlier run left behind (${name})`);
      await destroyMachine(sub, signal);
    }
    await sub.journal.update((s) => {
      s.driverName = instance.driver.name;
      s.buildId = run.buildId;
      s.lastAction = 'boot-test';
      s.lastError = null;
    });
    run.log.info(`boot test: a machine from ${image.id} (${name})`);
    const t0 = Date.now();
    run.events.emit({ type: 'action-start', instance: name, action: 'boot-test' });
    const r = await Chain.of<LoadedRun>().then(createStep({ destroyAfter: true })).then(verifyStep).run(sub, { instance: name, events: run.events, signal });
    run.events.emit({ type: 'action-end', instance: name, action: 'boot-test', ok: r.ok, error: r.error?.message, durationMs: Date.now() - t0 });
    await sub.journal.update((s) => {
      s.lastError = r.error ? r.error.message.split('\n')[0]! : null;
    });
    if (sub.report) run.bootTest = { instance: name, image: image.id, report: sub.report };
    if (!r.ok) throw r.error;
  },
};

/** Puts back every parameter write the journal holds (Driver.unpublish). Idempotent. */
export async function unpublishParameters(run: DriverRun, signal: AbortSignal): Promise<void> {
  const records = run.journal.state.parameters ?? [];
  if (records.length === 0) return;
  const driver = run.plugins.driver;
  if (!driver.parameters) throw new HallmarkError(`driver "${driver.name}" cannot put back parameters ${records.map((r) => r.name).join(', ')}`);
  await driver.parameters.unpublish(driverContext(run, signal), [...records]);
  run.parameters = undefined;
}

/** Puts back every launch template version the journal holds (Driver.revertLaunchTemplates). Idempotent. */
export async function revertTemplateVersions(run: DriverRun, signal: AbortSignal): Promise<void> {
  const records = run.journal.state.templateVersions ?? [];
  if (records.length === 0) return;
  const driver = run.plugins.driver;
  if (!driver.launchTemplates) throw new HallmarkError(`driver "${driver.name}" cannot remove launch template versions of ${records.map((r) => r.template.name ?? r.template.id).join(', ')}`);
  await driver.launchTemplates.revertLaunchTemplates(driverContext(run, signal), [...records]);
}

/** `distribute`: copies to regions / exports to targets; nothing is shared before the commit. */
export const distributeStep: OutputStep<CapturedRun, Distributed> = {
  name: 'distribute',
  async run(run, signal) {
    const d = run.instance.distribute;
    const nothing = d.regions.length === 0 && d.targets.length === 0;
    if (nothing) return { copies: [], skipped: 'no regions or targets to copy to' };
    const copies = await run.images.distribute(driverContext(run, signal), run.image, {
      regions: d.regions,
      concurrency: d.concurrency,
      encrypted: d.encrypted,
      kmsKeyIds: d.kms_key_ids,
      // Copies carry the same proof as the source image: CopyImage does not copy tags.
      tags: {
        ...run.instance.image.tags,
        [TAG_BUILD_ID]: run.buildId,
        [TAG_INSTANCE]: run.instance.name,
        [TAG_FAMILY]: imageFamily(run.instance),
        ...(run.report ? { [TAG_VERIFICATION]: resultsDigest(run.report) } : {}),
        [TAG_STATE]: STATE_PENDING,
      },
      // A directory target is relative to the project (as every path in the config), not to where hallmark runs.
      targets: d.targets.map((t) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(t) ? t : path.resolve(run.instance.projectDir, t))),
      format: d.format,
    });
    return { copies };
  },
};

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}
