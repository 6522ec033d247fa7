import { CommandFailedError, HallmarkError, lastLines, type ErrorOptions } from '../../kernel/errors.js';
import type { TaskFailure } from './output.js';

/** ansible-playbook is not installed on the controller. */
export class AnsibleMissingError extends HallmarkError {
  override readonly code = 'ANSIBLE_MISSING';
  override readonly exitCode = 2;
}

/** The playbook run failed: names the failed task(s) and the host's message. Output is already masked. */
export class AnsibleFailedError extends CommandFailedError {
  readonly failures: TaskFailure[];

  constructor(command: string, exitStatus: number | null, output: string, summary: string | undefined, failures: TaskFailure[], options: ErrorOptions = {}) {
    super(command, exitStatus, output, { what: 'ansible-playbook', ...options });
    this.failures = failures;
    const tail = lastLines(output, 20);
    this.message =
      `ansible-playbook failed with exit code ${exitStatus ?? 'none (killed)'}` +
      (summary ? `: ${summary}` : `: ${command}`) +
      (tail ? `\n--- last lines of output ---\n${tail}` : '');
  }
}
