import { HallmarkError } from '../kernel/errors.js';
import { IMAGE_NAME_VARS } from './sections.js';

export type ImageNameVars = Record<(typeof IMAGE_NAME_VARS)[number], string>;

/**
 * Fills `{{suite}}`, `{{platform}}`, `{{instance}}`, `{{build_id}}` and
 * `{{timestamp}}` (whitespace inside the braces allowed). The schema only
 * admits these names, so an unknown one here is a caller's bug.
 */
export function renderImageName(template: string, vars: ImageNameVars): string {
  return template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (whole, name: string) => {
    if (!(IMAGE_NAME_VARS as readonly string[]).includes(name)) {
      throw new HallmarkError(`unknown placeholder ${whole} in image name template "${template}"`, {
        hint: `use ${IMAGE_NAME_VARS.map((v) => `{{${v}}}`).join(', ')}`,
      });
    }
    return vars[name as keyof ImageNameVars];
  });
}
