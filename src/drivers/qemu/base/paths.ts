import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where hallmark keeps machine-wide caches: `${XDG_CACHE_HOME:-$HOME/.cache}/hallmark`.
 * Read from the environment on every call so tests can point it elsewhere.
 */
export function hallmarkCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(env.HOME || homedir(), '.cache'), 'hallmark');
}

/**
 * The base-image cache: `<hallmark cache>/base`, holding `<name>.json` (the
 * info of the current build of `<name>`) and one `<name>.<sha256[:16]>.qcow2`
 * per build that something may still use. See versionedImagePath.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(hallmarkCacheDir(env), 'base');
}

/** Downloaded .deb files, per suite, so rebuilds do not fetch them again. */
export function debCacheDir(cacheDir: string, suite: string): string {
  return join(cacheDir, 'debs', suite);
}

/**
 * Where a build of `name` whose qcow2 has this sha256 lives. Every build writes
 * a new file and never touches an older one: instance overlays name their
 * backing file by path, so a file whose content changed under that path
 * would silently corrupt them. `<name>.json` says which file is current.
 */
export function versionedImagePath(cacheDir: string, name: string, sha256: string): string {
  return join(cacheDir, `${name}.${sha256.slice(0, 16)}.qcow2`);
}

/** Matches the file names versionedImagePath gives builds of `name`. */
export function isVersionedImageFile(fileName: string, name: string): boolean {
  return fileName.startsWith(`${name}.`) && /^\.[0-9a-f]{16}\.qcow2$/.test(fileName.slice(name.length));
}

/**
 * The single, overwritten image file of builds made before versioned files
 * (their `<name>.json` has no `file`). Overlays made then name this path.
 */
export function legacyImagePath(cacheDir: string, name: string): string {
  return join(cacheDir, `${name}.qcow2`);
}

/** Which overlays use which base file: one small json per overlay (see refs.ts). */
export function refsDir(cacheDir: string): string {
  return join(cacheDir, 'refs');
}

export function infoPath(cacheDir: string, name: string): string {
  return join(cacheDir, `${name}.json`);
}

/**
 * The kernel of a built base image, kept beside it so the accelerator probe
 * can boot a real Linux kernel (a boot sector alone passes on hosts whose KVM
 * then hangs in Linux).
 */
export function kernelPath(cacheDir: string, name: string): string {
  return join(cacheDir, `${name}.vmlinuz`);
}
