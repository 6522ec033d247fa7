import type { ConnectionTarget } from '../../transports/transport.js';
import type { InspecVerifierOptions } from './schema.js';

export interface InspecArgsInput {
  opts: InspecVerifierOptions;
  target: ConnectionTarget;
  targets: string[];
  /** Where hallmark's json reporter writes. */
  jsonReport: string;
  /** A YAML file with `inputs`/`attributes`, when there are any. */
  inputsFile?: string;
  platform: string;
  suite: string;
}

/**
 * The `inspec exec` command line. Kitchen's option names map to InSpec's
 * flags; `reporter` entries get Kitchen's `%{platform}` and `%{suite}`
 * substitutions. Without a `reporter` option the `cli` reporter goes to
 * stdout (Kitchen's default), which hallmark streams to the log.
 */
export function inspecArgs(a: InspecArgsInput): string[] {
  const { opts, target } = a;
  const host = opts.host ?? target.hostname;
  const port = opts.port ?? target.port;
  const sub = (s: string) => s.replace(/%\{platform\}/g, a.platform).replace(/%\{suite\}/g, a.suite);
  // A bare `json` reporter would print to stdout; hallmark's own json reporter writes to a file instead.
  const reporters = (opts.reporter ?? ['cli']).map(sub).filter((r) => r !== 'json');
  const inputFiles = [...(opts.input_files ?? []), ...(opts.attrs ?? []), ...(a.inputsFile ? [a.inputsFile] : [])];
  const args = ['exec', ...a.targets, '-t', `ssh://${target.username}@${host}:${port}`];
  if (target.privateKeyPath) args.push('-i', target.privateKeyPath);
  if (opts.sudo && target.username !== 'root') {
    args.push('--sudo');
    if (opts.sudo_command) args.push('--sudo-command', opts.sudo_command);
    if (opts.sudo_options) args.push('--sudo-options', opts.sudo_options);
  }
  if (target.gateway) {
    args.push('--bastion-host', target.gateway.hostname, '--bastion-port', String(target.gateway.port), '--bastion-user', target.gateway.username);
  }
  if (opts.proxy_command) args.push('--proxy-command', opts.proxy_command);
  if (opts.controls?.length) args.push('--controls', ...opts.controls);
  if (inputFiles.length) args.push('--input-file', ...inputFiles);
  if (opts.waiver_files?.length) args.push('--waiver-file', ...opts.waiver_files);
  if (opts.profiles_path) args.push('--profiles-path', opts.profiles_path);
  if (opts.backend_cache !== undefined) args.push(opts.backend_cache ? '--backend-cache' : '--no-backend-cache');
  args.push('--reporter', ...reporters, `json:${a.jsonReport}`);
  args.push(opts.color ? '--color' : '--no-color');
  args.push('--chef-license', opts.chef_license);
  args.push(...opts.extra_args);
  return args;
}
