import { renderImageName, type ImageNameVars } from './image-name.js';
import type { InstanceConfig } from './types.js';

/** The tag that names an image's family, on every image and copy (and store image) a build makes. */
export const TAG_FAMILY = 'hallmark:family';

/** The parts of an image name template that differ from build to build: build ids start with the time too. */
const TIME_PARTS = /\{\{\s*(timestamp|build_id)\s*\}\}/g;

/**
 * The family of an instance's images, which `image.keep` counts: the
 * configured `image.family`, else the name template without its time parts,
 * rendered (`{{suite}}-{{platform}}-{{timestamp}}` gives `default-debian-12`).
 * Separators left dangling by the removal are dropped: a run of `-`, `_`, `.`
 * or space becomes its first character, and none stays at either end.
 */
export function imageFamily(instance: Pick<InstanceConfig, 'name' | 'suite' | 'platform' | 'image'>): string {
  if (instance.image.family !== undefined) return instance.image.family;
  const vars: ImageNameVars = { suite: instance.suite, platform: instance.platform, instance: instance.name, build_id: '', timestamp: '' };
  const rendered = renderImageName(instance.image.name.replace(TIME_PARTS, ''), vars);
  const family = rendered.replace(/([-_. ])[-_. ]+/g, '$1').replace(/^[-_. ]+|[-_. ]+$/g, '');
  return family || instance.name;
}
