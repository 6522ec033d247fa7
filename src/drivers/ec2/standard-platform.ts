import type { Image } from '@aws-sdk/client-ec2';

/**
 * kitchen-ec2's image lookup by platform name, for an ec2 platform that gives
 * neither `image_id` nor `image_search` (most real kitchen-ec2 files:
 * `platforms: [{name: ubuntu-22.04}]`). A port of kitchen-ec2 355bbe9
 * lib/kitchen/driver/aws/standard_platform.rb and standard_platform/*.rb:
 * - the name is `<platform>[-<version>][-<architecture>]` (parse_platform_string);
 * - each platform searches by owner and name pattern (and architecture when
 *   the name carries one);
 * - the images found are ordered as kitchen-ec2 orders them (sort_images):
 *   newest first, then x86_64, a gp3/gp2 root volume, an EBS root and HVM
 *   preferred, then grouped by the version read from the image name, highest
 *   first (each platform's sort_by_version), and the first one is taken;
 * - a name that is no standard platform searches as `ubuntu` does (default_ami).
 * kitchen-ec2's quirks are kept where they decide the image: rhel only moves
 * Beta images last (its sort_by_version discards the version grouping).
 * Pure functions; no AWS call here (source-image.ts makes the one call).
 */
export type ImageSearch = Record<string, string | string[]>;

export interface StandardPlatform {
  /** kitchen-ec2's platform key: ubuntu, debian, rhel, amazon2023, windows, ... */
  name: string;
  version?: string;
  architecture?: string;
  /** DescribeImages filters, kitchen-ec2's image_search for this platform. */
  search: ImageSearch;
  /** The login user kitchen-ec2 uses for this platform's images. */
  username: string;
}

const SUPPORTED_ARCHITECTURES = ['x86_64', 'i386', 'arm64'];
const EBS_VOLUME_TYPES = ['gp3', 'gp2'];

interface PlatformDef {
  search(version: string | undefined, architecture: string | undefined): ImageSearch;
  username(version: string | undefined): string;
  /** Whether an image belongs to this platform (from_image), and the version its name carries. */
  detect(name: string): { version?: string } | undefined;
  /** kitchen-ec2's sort_by_version for this platform (default: by the detected version as a float, highest first). */
  sortByVersion?(images: Image[], def: PlatformDef): Image[];
}

/** Ruby's String#to_f: the leading decimal number, 0 when there is none. */
function toF(s: string): number {
  const m = /^\s*[-+]?(\d[\d_]*)?(\.\d+)?([eE][-+]?\d+)?/.exec(s);
  const n = Number.parseFloat((m?.[0] ?? '').replace(/_/g, ''));
  return Number.isNaN(n) ? 0 : n;
}

/** Ruby's String#to_i. */
function toI(s: string): number {
  const m = /^\s*[-+]?\d+/.exec(s);
  return m ? Number.parseInt(m[0], 10) : 0;
}

const withArch = (search: ImageSearch, architecture: string | undefined): ImageSearch => (architecture ? { ...search, architecture } : search);
const firstMatch = (re: RegExp, name: string): string | undefined => re.exec(name)?.[1];
const detector =
  (is: RegExp, version: RegExp) =>
  (name: string): { version?: string } | undefined =>
    is.test(name) ? { version: firstMatch(version, name) } : undefined;

const VERSION = /\b(\d+(\.\d+)?)\b/i;
const VERSION_DOTTED = /\b(\d+(\.\d+[.\d])?)/i;

const DEBIAN_CODENAMES: [number, string][] = [
  [13, 'trixie'],
  [12, 'bookworm'],
  [11, 'bullseye'],
  [10, 'buster'],
  [9, 'stretch'],
  [8, 'jessie'],
  [7, 'wheezy'],
  [6, 'squeeze'],
];

const alma: PlatformDef = {
  search: (v, a) => withArch({ 'owner-id': '764336703387', name: v ? `AlmaLinux OS ${v}*` : 'AlmaLinux OS *' }, a),
  username: () => 'ec2-user',
  detect: detector(/AlmaLinux OS/i, VERSION),
};

const amazon: PlatformDef = {
  search: (v, a) => withArch({ 'owner-id': '137112412989', name: v ? `amzn-ami-*-${v}*` : 'amzn-ami-*' }, a),
  username: () => 'ec2-user',
  detect: detector(/amzn-ami/i, VERSION_DOTTED),
};

const amazon2: PlatformDef = {
  search: (v, a) => withArch({ 'owner-id': '137112412989', name: v ? `amzn2-ami-hvm-2.0.${v}*` : 'amzn2-ami-hvm-2.0.*' }, a),
  username: () => 'ec2-user',
  detect: detector(/amzn2-ami/i, VERSION_DOTTED),
};

const amazon2023: PlatformDef = {
  search: (v, a) => withArch({ 'owner-id': '137112412989', name: v ? `al2023-ami-2023.${v}*` : 'al2023-ami-2023.*' }, a),
  username: () => 'ec2-user',
  detect: detector(/al2023-ami/i, VERSION_DOTTED),
};

const centos: PlatformDef = {
  search: (v, a) => {
    const ver = v ?? '';
    return withArch({ 'owner-id': '125523088429', name: [`CentOS ${ver}*`, `CentOS-${ver}*-GA-*`, `CentOS Linux ${ver}*`, `CentOS Stream ${ver}*`] }, a);
  },
  username: (v) => (v !== undefined && toF(v) < 9 ? 'centos' : 'ec2-user'),
  detect: detector(/centos/i, VERSION),
  // A version without a dot sorts as its newest minor ("7" as 7.999).
  sortByVersion: (images, def) => groupByVersion(images, def, (k) => (k !== undefined && k.includes('.') ? toF(k) : toF(`${k ?? ''}.999`))),
};

const debian: PlatformDef = {
  search: (v, a) => {
    if (v === undefined) return withArch({ 'owner-id': '136693071363', name: `debian-${DEBIAN_CODENAMES[0]![0]}-*` }, a);
    if (toI(v) >= 10) return withArch({ 'owner-id': '136693071363', name: `debian-${toI(v)}-*` }, a);
    const codename = DEBIAN_CODENAMES.find(([n]) => n === toI(v))?.[1] ?? '';
    return withArch({ 'owner-id': '379101102735', name: `debian-${codename}-*` }, a);
  },
  username: () => 'admin',
  detect: (name) => {
    if (!/debian/i.test(name)) return undefined;
    const m = new RegExp(`\\b(\\d+|${DEBIAN_CODENAMES.map(([, c]) => c).join('|')})\\b`, 'i').exec(name)?.[1];
    if (m !== undefined && toI(m) === 0) return { version: String(DEBIAN_CODENAMES.find(([, c]) => c === m.toLowerCase())?.[0] ?? m) };
    return { version: m };
  },
};

const fedora: PlatformDef = {
  search: (v, a) => withArch({ 'owner-id': '125523088429', name: v ? `Fedora-Cloud-Base-${v}-*` : 'Fedora-Cloud-Base-*' }, a),
  username: () => 'fedora',
  detect: detector(/fedora/i, VERSION),
};

const freebsd: PlatformDef = {
  search: (v, a) => withArch({ 'owner-id': '118940168514', name: [`FreeBSD ${v ?? ''}*-RELEASE*`, `FreeBSD/EC2 ${v ?? ''}*-RELEASE*`] }, a),
  username: () => 'ec2-user',
  detect: detector(/freebsd/i, VERSION),
};

const macos: PlatformDef = {
  search: (v, a) => withArch({ 'owner-id': '100343932686', name: v ? `amzn-ec2-macos-${v}*` : 'amzn2-ec2-macos-*' }, a === 'arm64' ? 'arm64_mac' : a),
  username: () => 'ec2-user',
  detect: detector(/amzn-ec2-macos/i, VERSION_DOTTED),
};

const rhel: PlatformDef = {
  search: (v, a) => withArch({ 'owner-id': '309956199498', name: `RHEL-${v ?? ''}*` }, a),
  username: (v) => (v !== undefined && toF(v) < 6.4 ? 'root' : 'ec2-user'),
  detect: detector(/rhel/i, /\b(\d+(\.\d+)?)/i),
  // kitchen-ec2's El#sort_by_version calls super and discards its result: only Beta images move last.
  sortByVersion: (images) => prefer(images, (i) => !/_Beta-/i.test(i.Name ?? '')),
};

const rocky: PlatformDef = {
  search: (v, a) => withArch({ 'owner-id': '792107900819', name: v ? `Rocky-${v}-*` : 'Rocky-*' }, a),
  username: () => 'rocky',
  detect: detector(/Rocky-/i, VERSION_DOTTED),
};

const ubuntu: PlatformDef = {
  search: (v, a) => withArch({ 'owner-id': '099720109477', name: `ubuntu/images/*/ubuntu-*-${v ?? ''}*` }, a),
  username: () => 'ubuntu',
  detect: detector(/ubuntu/i, VERSION),
};

/** [major, revision, service pack] of a Windows version such as `2012r2`, `2008r2sp1`, `server-2016`. */
function windowsParts(version: string | undefined): [number | undefined, number | undefined, number | undefined] {
  if (version === undefined) return [undefined, undefined, undefined];
  const v = version.split('-', 2)[0] === 'server' ? version.slice('server-'.length) : version;
  const m = /^(\d+)(r\d+)?(sp\d+|rtm)?$/i.exec(v);
  if (!m) return [undefined, undefined, undefined];
  const sp = m[3] === undefined ? undefined : m[3].toLowerCase() === 'rtm' ? 0 : Number.parseInt(m[3].slice(2), 10);
  return [Number.parseInt(m[1]!, 10), m[2] ? Number.parseInt(m[2].slice(1), 10) : 0, sp];
}

const windows: PlatformDef = {
  search: (v, a) => {
    const [major, revision, sp] = windowsParts(v);
    let name: string | string[];
    if (major !== undefined && [2025, 2022, 2019, 2016].includes(major)) name = `Windows_Server-${major}-English-Full-Base-*`;
    else if (major !== undefined && [1709, 1803].includes(major)) name = `Windows_Server-${major}-English-Core-ContainersLatest-*`;
    else {
      let parts = revision === undefined ? ['', 'R*_'] : revision === 0 ? [''] : [`R${revision}_`];
      parts = sp === undefined ? parts.flatMap((r) => [`${r}RTM`, `${r}SP*`]) : parts.map((r) => (sp === 0 ? `${r}RTM` : `${r}SP${sp}`));
      name = parts.map((r) => `Windows_Server-${major ?? '*'}-${r}-English-*-Base-*`);
      if (major === undefined) name.push('Windows_Server-*-English-Full-Base-*');
    }
    return withArch({ 'owner-alias': 'amazon', name }, a);
  },
  username: () => 'administrator',
  detect: (name) => {
    if (!/Windows/i.test(name)) return undefined;
    const m = /(\b\d+)\W*(r\d+)?/i.exec(name);
    if (!m) return { version: undefined };
    const sp = (/(sp\d+|rtm)/i.exec(name)?.[1] ?? 'rtm').toLowerCase();
    return { version: `${m[1]}${m[2] ? m[2].toLowerCase() : ''}${sp}` };
  },
  sortByVersion: (images, def) => {
    const key = (i: Image) => windowsParts(def.detect(i.Name ?? '')?.version).map((n) => n ?? -1);
    const groups = groupBy(images, (i) => key(i).join('.'));
    return [...groups.values()]
      .sort((a, b) => {
        const [x, y] = [key(a[0]!), key(b[0]!)];
        for (let k = 0; k < 3; k++) if (x[k] !== y[k]) return y[k]! - x[k]!;
        return 0;
      })
      .flat();
  },
};

/** kitchen-ec2's StandardPlatform.platforms, with its aliases. */
const PLATFORMS: Record<string, PlatformDef> = {
  alma,
  almalinux: alma,
  amazon,
  amazon2,
  amazon2023,
  centos,
  debian,
  fedora,
  freebsd,
  macos,
  rhel,
  el: rhel,
  rocky,
  rockylinux: rocky,
  ubuntu,
  windows,
};

/** kitchen-ec2's parse_platform_string: `ubuntu-22.04-arm64` -> ubuntu, 22.04, arm64. */
export function parsePlatformString(s: string): [string, string | undefined, string | undefined] {
  const dash = s.indexOf('-');
  const platform = dash < 0 ? s : s.slice(0, dash);
  let version: string | undefined = dash < 0 ? undefined : s.slice(dash + 1);
  let architecture: string | undefined;
  if (version !== undefined && SUPPORTED_ARCHITECTURES.includes(version.split('-').at(-1)!)) {
    const cut = version.lastIndexOf('-');
    architecture = version.slice(cut + 1);
    version = cut < 0 ? undefined : version.slice(0, cut);
    if (version === '') version = undefined;
  }
  return [platform, version, architecture];
}

/** The standard platform a Kitchen platform name means, or undefined when it is none. */
export function standardPlatform(platformName: string): StandardPlatform | undefined {
  const [name, version, architecture] = parsePlatformString(platformName);
  const def = Object.hasOwn(PLATFORMS, name) ? PLATFORMS[name]! : undefined;
  if (!def) return undefined;
  const canonical = def === rhel ? 'rhel' : def === alma ? 'alma' : def === rocky ? 'rocky' : name;
  return {
    name: canonical,
    ...(version !== undefined ? { version } : {}),
    ...(architecture !== undefined ? { architecture } : {}),
    search: def.search(version, architecture),
    username: def.username(version),
  };
}

/**
 * What kitchen-ec2's default_ami searches for a platform name: its standard
 * platform, else `ubuntu` with no version (kitchen-ec2's fallback). `fallback`
 * says the name was not a standard platform.
 */
export function platformSearch(platformName: string): { platform: StandardPlatform; fallback: boolean } {
  const p = standardPlatform(platformName);
  return p ? { platform: p, fallback: false } : { platform: standardPlatform('ubuntu')!, fallback: true };
}

/** kitchen-ec2's sort_images for `platform` (a StandardPlatform name): the first image is the one it launches. */
export function sortImages(images: readonly Image[], platform: string): Image[] {
  const def = PLATFORMS[platform] ?? ubuntu;
  // Newest first; a tie keeps a fixed order (by name, then id) where Ruby's sort_by leaves it unspecified.
  let out = [...images].sort(
    (a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? '') || (b.Name ?? '').localeCompare(a.Name ?? '') || (b.ImageId ?? '').localeCompare(a.ImageId ?? ''),
  );
  out = prefer(out, (i) => i.Architecture === 'x86_64');
  out = prefer(out, (i) => (i.BlockDeviceMappings ?? []).some((b) => b.DeviceName === i.RootDeviceName && b.Ebs !== undefined && EBS_VOLUME_TYPES.includes(b.Ebs.VolumeType ?? '')));
  out = prefer(out, (i) => i.RootDeviceType === 'ebs');
  out = prefer(out, (i) => i.VirtualizationType === 'hvm');
  return def.sortByVersion ? def.sortByVersion(out, def) : groupByVersion(out, def, (k) => (k === undefined ? undefined : toF(k)));
}

/** Stable partition: the images `ok` accepts first. */
function prefer(images: Image[], ok: (i: Image) => boolean): Image[] {
  return [...images.filter(ok), ...images.filter((i) => !ok(i))];
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * Groups by the version the platform reads from each name, highest first,
 * keeping the order inside a group. Images with no version go last (Ruby
 * raises comparing nil with a Float; kitchen-ec2 only meets that on mixed results).
 */
function groupByVersion(images: Image[], def: PlatformDef, value: (version: string | undefined) => number | undefined): Image[] {
  const versionOf = (i: Image) => def.detect(i.Name ?? '')?.version;
  const groups = groupBy(images, (i) => versionOf(i) ?? '\0none');
  return [...groups.values()]
    .map((g) => ({ g, v: value(versionOf(g[0]!)) }))
    .sort((a, b) => (a.v === undefined ? (b.v === undefined ? 0 : 1) : b.v === undefined ? -1 : b.v - a.v))
    .flatMap(({ g }) => g);
}
