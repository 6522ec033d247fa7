import type { ConfigProblem } from '../kernel/errors.js';
import { sharedImageName } from './image-name.js';
import { sharedParameter } from './parameter-name.js';
import type { InstanceConfig } from './types.js';

/**
 * Rules between the instances of one build (the selected ones): two of them
 * must not name their images alike in one region (the second CreateImage is
 * refused at the end of its build), nor write one SSM parameter (the last to
 * finish would win). `validate` reports these; `build` refuses to start.
 */
export function buildProblems(instances: InstanceConfig[]): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const file = (name: string) => instances.find((i) => i.name === name)?.file ?? '';
  const image = sharedImageName(instances);
  if (image) {
    out.push({
      file: file(image.instances[1]),
      path: 'image.name',
      message: `instances ${image.instances.join(' and ')} would both name their image ${JSON.stringify(image.name)} in ${image.region}`,
      expected: 'an image.name that differs between the instances of one build',
      found: JSON.stringify(image.name),
      hint: 'put {{instance}} (or {{suite}} and {{platform}}) in image.name; {{timestamp}} alone is not enough, two instances can start in one second',
    });
  }
  const parameter = sharedParameter(instances);
  if (parameter) {
    out.push({
      file: file(parameter.instances[1]),
      path: 'publish.ssm_parameter',
      message: `instances ${parameter.instances.join(' and ')} would both write SSM parameter ${parameter.name} in ${parameter.region}`,
      hint: 'put {{instance}} (or {{platform}}, {{suite}}) in publish.ssm_parameter, or build one instance at a time',
    });
  }
  return out;
}
