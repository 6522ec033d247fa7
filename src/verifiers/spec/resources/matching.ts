import { goString } from '../go-values.js';
import { NOTHING } from '../shell.js';
import type { ResourceDef } from '../types.js';

/**
 * `matching`: compares `content` (from the gossfile, usually templated)
 * against `matches`; nothing runs on the target. With `as-reader: true` the
 * content is its text (Go's %v), matched as a stream (a list is line patterns).
 */
export const matchingDef: ResourceDef = {
  type: 'matching',
  attrs: { matches: 'value' },
  options: ['content', 'as-reader'],
  required: ['matches'],
  validate: (r) => ('content' in r.options ? undefined : 'content is required'),
  probe: () => NOTHING,
  observe: (r) => ({ matches: { value: r.options['as-reader'] === true ? goString(r.options.content) : r.options.content } }),
};
