import { createHash } from 'node:crypto';
import { guestFiles } from './guest-files.js';
import { APT_PACKAGES_CLOUD_INIT, debootstrapPackages, DISTROS, isDistro, type BaseImageInfo, type Distro } from './types.js';

/**
 * Bump when a change to what configureGuest (configure.ts) or buildBaseImage
 * (build.ts, disk.ts) does to the image changes its content: a command added
 * or removed, a service enabled, a different partition layout. The files the
 * image gets (guest-files.ts) and the package lists are digested as data and
 * need no bump. recipe.test.ts holds a fingerprint of configure.ts that fails
 * on any change to it, as a reminder.
 */
export const RECIPE_REVISION = 2;

export interface RecipeInputs {
  distro: Distro;
  cloudInit: boolean;
  mirror: string;
}

/**
 * A digest of everything that defines a base image's content: the revision of
 * the build steps, debootstrap's arguments, the packages, and every file
 * written into the guest. Recorded in `<name>.json` by the build; a cached base
 * whose digest differs from the current recipe's was built by an older hallmark.
 */
export function recipeDigest(r: RecipeInputs): string {
  const { suite } = DISTROS[r.distro];
  const recipe = {
    revision: RECIPE_REVISION,
    distro: r.distro,
    suite,
    debootstrap: { variant: 'minbase', components: 'main', include: debootstrapPackages(r.distro, r.cloudInit), mirror: r.mirror },
    apt: r.cloudInit ? APT_PACKAGES_CLOUD_INIT : [],
    files: guestFiles({ suite, mirror: r.mirror, cloudInit: r.cloudInit }).map((f) => [f.path, f.mode, f.content]),
  };
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex');
}

/** The command that rebuilds this base image with the current recipe. */
export function rebuildCommand(info: Pick<BaseImageInfo, 'distro' | 'variant'>): string {
  return `hallmark base build ${info.distro}${info.variant === 'cloudinit' ? ' --cloud-init' : ''} --force`;
}

/**
 * Why a cached base is not what the current recipe builds, ending with the
 * command that rebuilds it; undefined when it is current. Never rebuilds: a
 * build takes minutes and needs root, and a missing base is not built on
 * demand either (resolveBaseImage names the command), so callers warn.
 */
export function staleRecipe(info: BaseImageInfo): string | undefined {
  if (!isDistro(info.distro)) return undefined;
  const current = recipeDigest({ distro: info.distro, cloudInit: info.variant === 'cloudinit', mirror: info.mirror });
  if (info.recipe === current) return undefined;
  const built = `base image ${info.name} (built ${info.createdAt})`;
  const why =
    info.recipe === undefined
      ? `${built} was built before hallmark recorded base-image recipes, so it may lack changes made to the recipe since`
      : `${built} was built by a different recipe than this hallmark's (recipe ${info.recipe.slice(0, 12)}, now ${current.slice(0, 12)})`;
  return `${why}; rebuild it with \`${rebuildCommand(info)}\` (machines already made on it keep the old one)`;
}
