import path from 'node:path';
import { CommandFailedError, HallmarkError } from '../../kernel/errors.js';
import { applyTransportOverrides } from '../../transports/ssh/overrides.js';
import { sshTransportSchema, type SshTransportOptions } from '../../transports/ssh/schema.js';
import { HostKeyMismatchError } from '../../transports/ssh/errors.js';
import type { Connection, ConnectionTarget } from '../../transports/transport.js';
import type { MachineCapability, DriverContext } from '../driver.js';
import type { ProxyDriverOptions } from './schema.js';
import { hostPort, readProxyState } from './state.js';

/**
 * How long `create` (and every later connection) waits for an existing
 * machine to answer. Short: the machine is supposed to be up already, so a
 * wrong host or a firewall should fail fast instead of after the 5 minutes a
 * booting VM gets. The transport block's max_wait_until_ready overrides it.
 */
const READY_WAIT_MS = 30_000;

/**
 * The `proxy` driver (Test Kitchen's): converge and verify a machine hallmark
 * did not make. It never creates, stops or images anything, so it has no
 * capability besides machines and `build` refuses it. The SSH host key is pinned: the configured
 * `host_key`, else the first key seen, recorded in the journal.
 */
export class ProxyDriver implements MachineCapability {
  readonly name = 'proxy';

  constructor(private readonly opts: ProxyDriverOptions) {}

  /**
   * Records the machine (before any waiting, so `destroy` knows to reset it
   * after a crash), then checks that it answers over SSH and accepts the
   * login; the host key seen is recorded. Idempotent.
   */
  async create(ctx: DriverContext): Promise<void> {
    await ctx.journal.recordDriver({ host: this.opts.host, port: this.opts.port, username: this.opts.username });
    const target = await this.connectionTarget(ctx);
    const conn = await this.connect(ctx, target);
    await conn.close();
    ctx.log.info(`proxy: ${hostPort(target.hostname, target.port)} answers over SSH; it is used as is and never destroyed`);
  }

  /** From the options (the machine is fixed), with the host key pinned from the options or the journal. */
  async connectionTarget(ctx: DriverContext): Promise<ConnectionTarget> {
    const base: ConnectionTarget = {
      hostname: this.opts.host,
      port: this.opts.port,
      username: this.opts.username,
      privateKeyPath: this.opts.ssh_key ? path.resolve(ctx.instance.projectDir, this.opts.ssh_key) : undefined,
      password: this.opts.password,
      maxWaitUntilReadyMs: READY_WAIT_MS,
    };
    // The pin belongs to where the transport will really connect (its block may override host and port).
    const effective = applyTransportOverrides(base, transportOptions(ctx) ?? {}, ctx.instance.projectDir);
    const key = hostPort(effective.hostname, effective.port);
    if (this.opts.host_key) return { ...base, hostKey: { expected: this.opts.host_key } };
    const d = ctx.journal.state.driver;
    if (typeof d.hostKeyFingerprint === 'string' && d.hostKeyFor === key) {
      return { ...base, hostKey: { expected: d.hostKeyFingerprint } };
    }
    return {
      ...base,
      hostKey: {
        record: async (fingerprint) => {
          await ctx.journal.recordDriver({ hostKeyFingerprint: fingerprint, hostKeyFor: key });
          ctx.log.info(`proxy: accepted the SSH host key of ${key} on first use: ${fingerprint}`);
        },
      },
    };
  }

  /**
   * Runs `reset_command` when given, then forgets the machine (and its host
   * key). Without a reset command the machine is left exactly as it is. A
   * failed reset keeps the journal, so running destroy again retries it.
   * Does nothing when `create` never ran (or destroy already did).
   */
  async destroy(ctx: DriverContext): Promise<void> {
    if (!readProxyState(ctx.journal)) return;
    const cmd = this.opts.reset_command;
    if (cmd) {
      ctx.log.info(`proxy: resetting the machine with: ${cmd}`);
      const conn = await this.connect(ctx, await this.connectionTarget(ctx)).catch((err: unknown) => {
        if (err instanceof HostKeyMismatchError) {
          throw new HostKeyMismatchError(`${this.opts.host} (reset_command not run)`, err.expected, err.actual, {
            cause: err,
            hint: `if the machine was legitimately rebuilt, remove hostKeyFingerprint from ${ctx.journal.file} and run destroy again`,
          });
        }
        throw err;
      });
      try {
        const r = await conn.exec(cmd, {
          signal: ctx.signal,
          onStdout: (t) => ctx.log.output('stdout', t),
          onStderr: (t) => ctx.log.output('stderr', t),
        });
        if (r.exitCode !== 0) {
          throw new CommandFailedError(cmd, r.exitCode, r.stdout + r.stderr, {
            what: 'proxy reset_command',
            hint: 'the machine may be half reset; fix the command or the machine, then run destroy again',
          });
        }
      } finally {
        await conn.close();
      }
    } else {
      ctx.log.info('proxy: no reset_command; the machine is left as it is');
    }
    await ctx.journal.resetMachine();
  }

  /** Connects with the ssh transport, configured by the instance's transport block when it is an ssh one. */
  private async connect(ctx: DriverContext, target: ConnectionTarget): Promise<Connection> {
    const { SshTransport } = await import('../../transports/ssh/transport.js');
    const transport = new SshTransport({ ...transportOptions(ctx), projectDir: ctx.instance.projectDir });
    return transport.connect(target, { signal: ctx.signal, log: ctx.log });
  }
}

/** The instance's transport block as ssh options, or undefined when it is not a valid ssh block. */
function transportOptions(ctx: DriverContext): SshTransportOptions | undefined {
  const block = ctx.instance.transport;
  if (block?.name !== 'ssh') return undefined;
  const r = sshTransportSchema().safeParse(block);
  if (!r.success) {
    throw new HallmarkError(`the transport block of ${ctx.instance.name} is not a valid ssh block`, {
      cause: r.error,
      hint: 'run: hallmark validate',
    });
  }
  return r.data;
}
