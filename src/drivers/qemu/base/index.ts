// CLI-facing API of the base-image builder (`hallmark base build|list`).
export { buildBaseImage, type BuildBaseImageOptions } from './build.js';
export { baseImageFile, listBaseImages, readBaseImageInfo, resolveBaseImage, sha256File, type CachedBaseImage, type ResolvedImage } from './cache.js';
export { recordBaseReference } from './refs.js';
export { recipeDigest, staleRecipe } from './recipe.js';
export { findBuildLeftovers, type BuildLeftovers } from './release.js';
export { defaultCacheDir, hallmarkCacheDir, infoPath, kernelPath, legacyImagePath, versionedImagePath } from './paths.js';
export { baseImageName, DEFAULT_MIRROR, DISTROS, isDistro, packagesFor, type BaseImageInfo, type Distro } from './types.js';
export { FW_CFG_AUTHORIZED_KEYS, FW_CFG_HOST_KEY, GUEST_USER, KERNEL_CONSOLE } from './guest-files.js';
