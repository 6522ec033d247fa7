import type { ConfigProblem } from '../core/errors.js';
import type { DistributeConfig, ImageConfig } from './types.js';
import { problemAt } from './problems.js';
import type { SectionName } from './sections.js';
import type { ValueNode } from './source.js';

/**
 * Rules that span keys (and so, after merging, levels) of hallmark's
 * sections. Each returns problems placed at the value to change.
 */
export function checkSectionRules(section: SectionName, data: unknown, node: ValueNode): ConfigProblem[] {
  if (section === 'image') return imageRules(data as ImageConfig, node);
  if (section === 'distribute') return distributeRules(data as DistributeConfig, node);
  return [];
}

function imageRules(image: ImageConfig, node: ValueNode): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (image.kms_key_id !== undefined && image.encrypted === false) {
    out.push(
      problemAt(node, ['kms_key_id'], {
        message: 'kms_key_id is set but encrypted is false',
        hint: 'remove kms_key_id or set encrypted: true',
      }),
    );
  }
  return out;
}

function distributeRules(d: DistributeConfig, node: ValueNode): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const region of Object.keys(d.kms_key_ids)) {
    if (!d.regions.includes(region)) {
      out.push(
        problemAt(
          node,
          ['kms_key_ids', region],
          {
            message: `kms_key_ids names region ${region}, which is not in regions`,
            expected: d.regions.length > 0 ? `one of ${d.regions.join(', ')}` : 'a region listed in distribute.regions',
            found: region,
          },
          true,
        ),
      );
    }
  }
  if (d.encrypted === false && Object.keys(d.kms_key_ids).length > 0) {
    out.push(problemAt(node, ['encrypted'], { message: 'kms_key_ids are set but encrypted is false', hint: 'remove kms_key_ids or set encrypted: true' }));
  }
  const dupes = d.accounts.filter((a, i) => d.accounts.indexOf(a) !== i);
  if (dupes.length > 0) {
    out.push(problemAt(node, ['accounts'], { message: 'an account is listed twice', found: [...new Set(dupes)].join(', ') }));
  }
  return out;
}
