// CLI-facing API of the base-image builder (`hallmark base build|list`).
export { buildBaseImage, type BuildBaseImageOptions } from './build.js';
export { listBaseImages, readBaseImageInfo, resolveBaseImage, sha256File, type CachedBaseImage, type ResolvedImage } from './cache.js';
export { findBuildLeftovers, type BuildLeftovers } from './release.js';
export { defaultCacheDir, hallmarkCacheDir, imagePath, infoPath, kernelPath } from './paths.js';
export { baseImageName, DEFAULT_MIRROR, DISTROS, isDistro, packagesFor, type BaseImageInfo, type Distro } from './types.js';
export { FW_CFG_AUTHORIZED_KEYS, FW_CFG_HOST_KEY, GUEST_USER, KERNEL_CONSOLE } from './guest-files.js';
