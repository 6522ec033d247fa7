import { readFileSync } from 'node:fs';
import { Command, Option, CommanderError } from 'commander';
import { toHallmarkError, UsageError, type ExitCode } from '../kernel/errors.js';
import { printError } from './print-error.js';
import type { ActionOptions } from './lifecycle.js';
import type { GlobalOptions } from './context.js';

// Each command's module is imported when that command runs, so `--version`,
// `--help` and `list` load no pipeline, plugin, ssh2 or AWS SDK code
// (test/cli/startup.test.ts holds this; bench/cli times it).
const validate: typeof import('./info.js').validate = async (...a) => (await import('./info.js')).validate(...a);
const list: typeof import('./info.js').list = async (...a) => (await import('./info.js')).list(...a);
const diagnose: typeof import('./info.js').diagnose = async (...a) => (await import('./info.js')).diagnose(...a);
const cleanup: typeof import('./cleanup.js').cleanup = async (...a) => (await import('./cleanup.js')).cleanup(...a);
const execCommand: typeof import('./machine.js').execCommand = async (...a) => (await import('./machine.js')).execCommand(...a);
const login: typeof import('./machine.js').login = async (...a) => (await import('./machine.js')).login(...a);
const baseBuild: typeof import('./images.js').baseBuild = async (...a) => (await import('./images.js')).baseBuild(...a);
const baseList: typeof import('./images.js').baseList = async (...a) => (await import('./images.js')).baseList(...a);
const distributeCommand: typeof import('./images.js').distributeCommand = async (...a) => (await import('./images.js')).distributeCommand(...a);
const imagesList: typeof import('./images.js').imagesList = async (...a) => (await import('./images.js')).imagesList(...a);
const imagesPrune: typeof import('./images.js').imagesPrune = async (...a) => (await import('./images.js')).imagesPrune(...a);
const imagesRm: typeof import('./images.js').imagesRm = async (...a) => (await import('./images.js')).imagesRm(...a);
const verifyTargetCommand: typeof import('./verify-target.js').verifyTargetCommand = async (...a) => (await import('./verify-target.js')).verifyTargetCommand(...a);
const init: typeof import('./init.js').init = async (...a) => (await import('./init.js')).init(...a);
const lifecycle: typeof import('./lifecycle.js').lifecycle = async (...a) => (await import('./lifecycle.js')).lifecycle(...a);

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Builds the command tree. Each action resolves to an exit code. */
export function program(exit: (code: number) => void): Command {
  const p = new Command('hallmark')
    .description('Build machine images that are proven before anyone can use them')
    .version(pkg.version, '-V, --version')
    .option('-c, --config <file>', 'config file (default: $KITCHEN_YAML, else hallmark.yml, kitchen.yml or .kitchen.yml)')
    .option('-v, --verbose', 'show debug logs and passing checks')
    .showHelpAfterError()
    // Program options go before the command; each command repeats them (below),
    // so that `exec NAME -c CMD` (Kitchen's form) can own -c.
    .enablePositionalOptions()
    .exitOverride();

  const g = (cmd: Command): GlobalOptions => cmd.optsWithGlobals() as GlobalOptions;
  const act =
    <A extends unknown[]>(fn: (...a: A) => Promise<number>) =>
    async (...a: A) =>
      exit(await fn(...a));

  p.command('init')
    .description('scaffold a project that builds as it is (config, provisioning, checks, .gitignore), or convert a Packer JSON template')
    .addOption(new Option('--driver <name>', 'where machines run').choices(['qemu', 'ec2']).default('qemu'))
    .addOption(new Option('--provisioner <name>', 'how they are provisioned').choices(['shell', 'ansible_playbook']).default('shell'))
    .option('--from-packer <template.json>', 'convert a Packer JSON template (amazon-ebs or qemu builder) into hallmark.yml; names what it could not convert')
    .option('--force', 'overwrite files that exist')
    .action(act((o: { driver: string; provisioner: string; fromPacker?: string; force?: boolean }) => init(o)));
  p.command('validate [regex]')
    .description('check the configuration; report every problem with file, line and key, then warnings and notes')
    .option('--strict', 'warnings (keys no plugin knows) are errors too')
    .action(act((r: string | undefined, o: { strict?: boolean }, cmd: Command) => validate(r, { ...g(cmd), strict: o.strict })));
  p.command('list [regex]')
    .alias('ls')
    .description('list instances with their plugins and last action')
    .option('--matrix', 'print the instances as a CI job matrix: {"include":[{"instance","suite","platform"}]}')
    .action(act((r: string | undefined, _o, cmd: Command) => list(r, g(cmd))));
  p.command('diagnose [regex]').description('show the fully merged configuration per instance (secrets redacted)').action(act((r: string | undefined, _o, cmd: Command) => diagnose(r, g(cmd))));

  const verbs: [string, string][] = [
    ['create', 'start machines'],
    ['converge', 'provision machines (creating them when needed)'],
    ['setup', 'prepare machines for verification'],
    ['destroy', 'destroy machines'],
    ['test', 'destroy, create, converge, setup, verify, destroy (per --destroy)'],
    ['build', 'create, converge, verify, capture, distribute and publish images; nothing is published unless every check passes'],
  ];
  for (const [name, description] of verbs) {
    const c = p
      .command(`${name} [regex]`)
      .description(description)
      .option('--concurrency <n>', 'instances in parallel', '1')
      .option('--fail-fast', 'stop at the first failing instance');
    if (name === 'build') c.option('--keep-passing', 'publish each instance that passes, even when another fails (default: all or nothing; config: build.atomic: false)');
    if (name === 'test') c.addOption(new Option('--destroy <when>', 'when to destroy machines').choices(['passing', 'always', 'never']).default('passing'));
    c.action(act((r: string | undefined, _o, cmd: Command) => lifecycle(name as 'create', r, g(cmd) as ActionOptions)));
  }

  p.command('verify [regex]')
    .description('run the checks (creating and converging when needed); or verify any machine with --target')
    .option('--concurrency <n>', 'instances in parallel', '1')
    .option('--fail-fast', 'stop at the first failing instance')
    .option('--target <uri>', 'verify ssh://USER@HOST[:PORT] or "local" without a config file')
    .option('--key <file>', 'private key for --target')
    .option('--host-key <fingerprint>', 'expected SSH host key (SHA256:...) for --target')
    .option('--spec <file...>', 'gossfile(s) for --target')
    .option('--profile <name...>', 'shipped profile(s) for --target, e.g. baseline')
    .option('--vars <file>', 'JSON/YAML vars file for the gossfile templates ({{ .Vars.x }}), --target; repeatable, later files win', (v: string, acc: string[] = []) => [...acc, v])
    .option('--vars-inline <yaml>', 'JSON/YAML vars for the gossfile templates, --target; replace the files\' top-level keys')
    .option('--junit <file>', 'write a JUnit report (--target)')
    .option('--results <file>', 'write results as JSON (--target)')
    .option('--html <file>', 'write a self-contained HTML report (--target)')
    .action(
      act((r: string | undefined, _o, cmd: Command) => {
        const o = g(cmd) as ActionOptions & { target?: string; json?: boolean | string };
        if (o.target) {
          if (r) throw new UsageError('give either an instance pattern or --target, not both');
          const jsonFile = typeof o.json === 'string' ? o.json : undefined;
          return verifyTargetCommand({ ...o, json: o.json === true, results: (o as { results?: string }).results ?? jsonFile } as never);
        }
        if (typeof o.json === 'string') throw new UsageError('--json FILE is for --target; without it use --json alone');
        return lifecycle('verify', r, o as ActionOptions);
      }),
    );

  p.command('login <instance>').description('open an interactive shell on a machine').action(act((n: string, _o, cmd: Command) => login(n, g(cmd))));
  p.command('exec <instance>')
    .description('run one command on a machine')
    .requiredOption('-c, --command <cmd>', 'the command')
    .action(act((n: string, o: { command: string }, cmd: Command) => execCommand(n, o.command, g(cmd))));
  p.command('cleanup [regex]')
    .description('remove machines and unpublished images that interrupted or killed runs left behind')
    .option('--orphans', 'find by tag (and locally by path and process) what hallmark made and never committed, with no journal (.hallmark/ gone)')
    .option('--older-than <duration>', 'with --orphans: only what is older than this (never a build in progress), e.g. 6h, 90m, 0s (default: 6h)')
    .option('--dry-run', 'with --orphans: list what would be removed, remove nothing')
    .action(act((r: string | undefined, _o, cmd: Command) => cleanup(r, g(cmd))));

  p.command('distribute <image-id>')
    .description('copy an existing AMI to regions, share it, write an SSM parameter and launch template versions: all or nothing, as a build commits')
    .requiredOption('--from <region>', 'region of the image')
    .option('--to <regions>', 'comma-separated regions to copy to')
    .option('--accounts <ids>', 'comma-separated account ids to share with')
    .option('--concurrency <n>', 'copies in parallel')
    .option('--endpoint <url>', 'EC2 endpoint (EC2-compatible services, tests)')
    .option('--keep-on-failure', 'keep copies that succeeded when another fails')
    .option('--ssm-parameter <name>', 'write each region\'s AMI id to this SSM parameter (as publish.ssm_parameter)')
    .option(
      '--launch-template <template>',
      'NAME or lt-ID, optionally @REGION (default: --from): add a default version naming the region\'s AMI; repeat for more',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .action(act((id: string, _o, cmd: Command) => distributeCommand(id, g(cmd) as never)));

  const base = p.command('base').description('bootable base images for the qemu driver, built offline from Debian\'s mirror');
  base
    .command('build <name>')
    .description('build a base image (debian-12, debian-13)')
    .option('--cloud-init', 'a variant that takes its user and key from cloud-init (NoCloud)')
    .option('--force', 'rebuild even when cached')
    .option('--mirror <url>', 'Debian mirror')
    .action(act((n: string, _o, cmd: Command) => baseBuild(n, g(cmd) as never)));
  base.command('list').description('list cached base images').action(act((_o, cmd: Command) => baseList(g(cmd))));

  const images = p.command('images').description('images in the local image store (qemu)').action(act((_o, cmd: Command) => imagesList(g(cmd))));
  images
    .command('prune [regex]')
    .description('remove images of a family beyond the newest N (ec2: every region of the instances; qemu: the local store), never one in use')
    .requiredOption('--keep <n>', 'how many of the newest images to keep')
    .option('--family <name>', 'the image family (tag hallmark:family); default: each instance\'s (image.family, else image.name without its time parts)')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .action(act((r: string | undefined, _o, cmd: Command) => imagesPrune(r, g(cmd) as never)));
  images.command('rm <id...>').description('remove images from the store').action(act((ids: string[], _o, cmd: Command) => imagesRm(ids, g(cmd))));
  // --json on every command (verify's takes an optional file for --target results).
  const addJson = (c: Command) => {
    for (const sub of c.commands) {
      if (!sub.commands.length || sub.name() === 'images') {
        sub.option(sub.name() === 'exec' ? '--config <file>' : '-c, --config <file>', 'config file (default: $KITCHEN_YAML, else hallmark.yml, kitchen.yml or .kitchen.yml)');
        sub.option('-v, --verbose', 'show debug logs and passing checks');
      }
      if (sub.name() === 'verify') sub.option('--json [file]', 'machine-readable output; with --target, a file to write the results to');
      else if (!sub.commands.length || sub.name() === 'images') sub.option('--json', 'machine-readable output (JSON lines for progress)');
      addJson(sub);
    }
  };
  addJson(p);
  return p;
}

export async function main(argv: string[]): Promise<ExitCode | number> {
  // Under Node < 22 the AWS SDK prints a NodeVersionSupportWarning whenever a
  // client is made (SDK releases after January 2027 will need Node 22). The
  // SDK that hallmark ships is pinned (package-lock.json) and supports the
  // Node versions package.json `engines` names, so the notice is not news to
  // a hallmark user; the SDK's own switch keeps it out of every ec2 command's
  // output. A value the user set (e.g. "false") is kept.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let code: number | undefined;
  const p = program((c) => {
    code = c;
  });
  try {
    await p.parseAsync(argv);
    return code ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not errors
      return err.exitCode === 0 ? 0 : 2;
    }
    printError(err);
    return toHallmarkError(err).exitCode;
  }
}
