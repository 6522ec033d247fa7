import { NOTHING } from '../shell.js';
import type { ResourceDef } from '../types.js';

/** `matching`: compares `content` (from the gossfile, usually templated) against `matches`; nothing runs on the target. */
export const matchingDef: ResourceDef = {
  type: 'matching',
  attrs: { matches: 'value' },
  options: ['content'],
  required: ['matches'],
  validate: (r) => ('content' in r.options ? undefined : 'content is required'),
  probe: () => NOTHING,
  observe: (r) => ({ matches: { value: r.options.content } }),
};
