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

/** The base-image cache: `<hallmark cache>/base`, holding `<name>.qcow2` + `<name>.json`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(hallmarkCacheDir(env), 'base');
}

/** Downloaded .deb files, per suite, so rebuilds do not fetch them again. */
export function debCacheDir(cacheDir: string, suite: string): string {
  return join(cacheDir, 'debs', suite);
}

export function imagePath(cacheDir: string, name: string): string {
  return join(cacheDir, `${name}.qcow2`);
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
