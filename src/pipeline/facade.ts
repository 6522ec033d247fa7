/**
 * The one entry to the pipeline that the CLI and the library both call: an
 * action on a project's selected instances, with every instance's log file
 * under `.hallmark/logs/` written as it runs.
 */
import { attachLogFiles } from '../kernel/log-file.js';
import { runAction, type ActionResult, type RunActionOptions } from './actions.js';

export async function runProjectAction(opts: RunActionOptions): Promise<ActionResult> {
  const closeLogs = attachLogFiles(opts.events, opts.project.stateDir);
  try {
    return await runAction(opts);
  } finally {
    await closeLogs();
  }
}
