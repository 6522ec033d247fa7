import { standardPlatform } from './standard-platform.js';

/**
 * The login user when `username` is not set. Test Kitchen's platform names
 * (`ubuntu-22.04`, `debian-12`, `centos-7`, `amazon2023`...) say which image
 * family the machine is, and each family's cloud images have a fixed user.
 * Anything unknown gets `ec2-user`, the Amazon Linux / RHEL convention; set
 * `username:` (or the transport's) for other images.
 */
const byFamily: [RegExp, string][] = [
  [/^ubuntu/, 'ubuntu'],
  [/^debian/, 'admin'],
  [/^centos/, 'centos'],
  [/^(rocky)/, 'rocky'],
  [/^(alma)/, 'ec2-user'],
  [/^fedora/, 'fedora'],
  [/^freebsd/, 'ec2-user'],
  [/^(opensuse|sles|suse)/, 'ec2-user'],
  [/^(amazon|amzn|al20|rhel|redhat)/, 'ec2-user'],
  [/^windows/, 'administrator'],
];

export function defaultUsername(platform: string): string {
  // kitchen-ec2's own rule for its standard platforms (centos-9 is ec2-user, rhel-6.3 root).
  const standard = standardPlatform(platform);
  if (standard) return standard.username;
  const p = platform.toLowerCase();
  return byFamily.find(([re]) => re.test(p))?.[1] ?? 'ec2-user';
}
