import { HallmarkError } from '../kernel/errors.js';
import type { InstanceConfig } from './types.js';

/**
 * `publish.ssm_parameter`: the name of the SSM parameter a build points at
 * its image. It may use `{{suite}}`, `{{platform}}` and `{{instance}}` (as
 * `image.name` does) but not `{{build_id}}` or `{{timestamp}}`: the parameter
 * is a stable pointer ("latest") that every build of the instance overwrites.
 */
export const PARAMETER_NAME_VARS = ['suite', 'platform', 'instance'] as const;
export type ParameterNameVars = Record<(typeof PARAMETER_NAME_VARS)[number], string>;

const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}/g;
const VARS_TEXT = PARAMETER_NAME_VARS.map((v) => `{{${v}}}`).join(', ');

/**
 * What a parameter name (or name template) should be, when it is not:
 * Parameter Store's naming rules (letters, digits, `_ . - /`; a name with a
 * `/` is a path starting with `/`, at most 15 levels; nothing starting with
 * `aws` or `ssm`, which AWS reserves). Undefined when the name is fine. The
 * schema checks the template (each placeholder standing for a plain word);
 * the build checks the rendered name again before anything is written.
 */
export function parameterNameProblem(name: string): string | undefined {
  const unknown = [...name.matchAll(PLACEHOLDER)].map((m) => m[1]!).filter((v) => !(PARAMETER_NAME_VARS as readonly string[]).includes(v));
  if (unknown.length > 0) {
    return `a name using only ${VARS_TEXT} (a parameter every build overwrites, so no {{build_id}} or {{timestamp}})`;
  }
  const plain = name.replace(PLACEHOLDER, 'x');
  if (!/^[A-Za-z0-9_.\-/]+$/.test(plain)) return 'an SSM parameter name of letters, digits and _ . - / only';
  if (plain.includes('/') && !plain.startsWith('/')) return 'an SSM parameter path starting with / (such as /golden-images/web/latest)';
  if (plain.endsWith('/') || plain.includes('//')) return 'an SSM parameter path without empty parts (such as /golden-images/web/latest)';
  if (/^(aws|ssm)/i.test(plain.replace(/^\//, ''))) return 'an SSM parameter name not starting with "aws" or "ssm" (AWS reserves them)';
  if (plain.split('/').filter(Boolean).length > 15) return 'an SSM parameter path of at most 15 levels';
  return undefined;
}

/** Fills the placeholders; throws when the result is not a valid parameter name (a suite or platform name with a space, say). */
export function renderParameterName(template: string, vars: ParameterNameVars): string {
  const name = template.replace(PLACEHOLDER, (_whole, v: string) => vars[v as keyof ParameterNameVars] ?? `{{${v}}}`);
  const problem = parameterNameProblem(name);
  if (problem) {
    throw new HallmarkError(`publish.ssm_parameter "${template}" gives "${name}", which is not a valid SSM parameter name`, {
      hint: `expected ${problem}; change publish.ssm_parameter`,
    });
  }
  return name;
}

/**
 * Two instances of one build that would write the same parameter in the same
 * region (a name without {{instance}} or {{platform}}, say): the last to
 * finish would win, and "latest" would name whichever image that was. Returns
 * the first such pair; undefined when there is none. An instance's regions
 * are its driver's `region` (unset: the default region) and its
 * distribute.regions. Names that do not render are left to the build.
 */
export function sharedParameter(instances: Pick<InstanceConfig, 'name' | 'suite' | 'platform' | 'driver' | 'distribute' | 'publish'>[]): { name: string; region: string; instances: [string, string] } | undefined {
  const seen = new Map<string, string>();
  for (const i of instances) {
    if (i.publish.ssm_parameter === undefined) continue;
    let name: string;
    try {
      name = renderParameterName(i.publish.ssm_parameter, { suite: i.suite, platform: i.platform, instance: i.name });
    } catch {
      continue;
    }
    const home = typeof i.driver.region === 'string' ? i.driver.region : 'the default region';
    for (const region of new Set([home, ...i.distribute.regions])) {
      const key = `${region}\u0000${name}`;
      const other = seen.get(key);
      if (other !== undefined && other !== i.name) return { name, region, instances: [other, i.name] };
      seen.set(key, i.name);
    }
  }
  return undefined;
}
