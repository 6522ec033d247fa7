/**
 * Converts a Packer JSON template into a hallmark.yml document (plain data,
 * serialised by the caller). Field names are Packer's: the template's
 * top level (variables, builders, provisioners, post-processors), the
 * amazon-ebs builder (packer-plugin-amazon builder/ebs and common
 * AMIConfig/RunConfig/AccessConfig), the qemu builder, and the shell, file
 * and ansible provisioners. Whatever has no hallmark equivalent is not
 * dropped silently: each key is named in `unconverted`.
 *
 * hallmark runs one provisioner per instance, so a template's provisioners
 * become one: consecutive shell provisioners merge into one shell block
 * (scripts first, then inline, hallmark's order), and the first ansible
 * provisioner becomes `ansible_playbook`. Any other provisioner is reported.
 */

export interface PackerConversion {
  /** The hallmark.yml document. */
  config: Record<string, unknown>;
  /** One line per key (or block) that was not converted, naming it. */
  unconverted: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Builder keys that say how Packer talks to AWS or names things for itself; no hallmark key is needed for them. */
const EBS_IGNORED = new Set(['type', 'name', 'access_key', 'secret_key', 'token', 'profile', 'communicator']);
const QEMU_IGNORED = new Set(['type', 'name', 'communicator', 'headless']);
const PROVISIONER_COMMON = new Set(['type']);

/**
 * Replaces `{{user `x`}}` with the variable's default, `{{env `X`}}` with
 * Kitchen's ERB `<%= ENV['X'] %>`, and Packer's
 * `{{timestamp}}`/`{{isotime ...}}` with hallmark's `{{timestamp}}`. Any other
 * template call is left as it is and reported.
 */
function expand(text: string, vars: Obj, where: string, unconverted: string[]): string {
  return text.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (whole, expr: string) => {
    const user = /^user\s+[`"]([^`"]+)[`"]$/.exec(expr);
    if (user) {
      const v = vars[user[1]!];
      // a default may read the environment ({{env `X`}}, Packer allows it only there)
      if (typeof v === 'string') return expand(v, {}, where, unconverted);
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      unconverted.push(`${where}: variable "${user[1]}" has no default; replace ${whole} by hand`);
      return whole;
    }
    if (expr === 'timestamp' || expr.startsWith('isotime')) return '{{timestamp}}';
    // the environment at build time: Kitchen's ERB, which hallmark reads (an unset variable is empty)
    const env = /^env\s+[`"]([A-Za-z_][A-Za-z0-9_]*)[`"]$/.exec(expr);
    if (env) return `<%= ENV['${env[1]!}'] %>`;
    unconverted.push(`${where}: template call ${whole} has no hallmark equivalent`);
    return whole;
  });
}

function deepExpand(v: unknown, vars: Obj, where: string, unconverted: string[]): unknown {
  if (typeof v === 'string') return expand(v, vars, where, unconverted);
  if (Array.isArray(v)) return v.map((x, i) => deepExpand(x, vars, `${where}[${i}]`, unconverted));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepExpand(x, vars, `${where}.${k}`, unconverted)]));
  return v;
}

/** `source_ami_filter` ({filters, owners, most_recent}) as kitchen-ec2's image_search (DescribeImages filters). */
function imageSearch(f: Obj, where: string, unconverted: string[]): Record<string, string | string[]> {
  const search: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(f)) {
    if (k === 'filters' && isObj(v)) for (const [name, value] of Object.entries(v)) search[name] = String(value);
    else if (k === 'owners' && Array.isArray(v)) {
      const owners = v.map(String);
      const ids = owners.filter((o) => /^\d{12}$/.test(o));
      const aliases = owners.filter((o) => !/^\d{12}$/.test(o) && o !== 'self');
      if (ids.length) search['owner-id'] = ids.length === 1 ? ids[0]! : ids;
      if (aliases.length) search['owner-alias'] = aliases.length === 1 ? aliases[0]! : aliases;
      if (owners.includes('self')) unconverted.push(`${where}.owners: "self" (name your account id as owner-id in image_search)`);
    } else if (k === 'most_recent') {
      // hallmark (as kitchen-ec2) always takes the newest image that matches.
    } else unconverted.push(`${where}.${k}`);
  }
  return search;
}

/** Packer's flat BlockDevice (block_device.go) as kitchen-ec2's mapping, whose EBS settings sit under `ebs`. */
function blockDevice(d: Obj): Obj {
  const out: Obj = {};
  const ebs: Obj = {};
  for (const [k, v] of Object.entries(d)) {
    if (k === 'device_name' || k === 'virtual_name') out[k] = v;
    else if (k === 'no_device') out[k] = v === true ? '' : String(v);
    else ebs[k] = v;
  }
  if (Object.keys(ebs).length) out.ebs = ebs;
  return out;
}

function ebsBuilder(b: Obj, where: string, unconverted: string[]) {
  const driver: Obj = { name: 'ec2' };
  const image: Obj = {};
  const distribute: Obj = {};
  const platform: Obj = {};
  for (const [k, v] of Object.entries(b)) {
    if (EBS_IGNORED.has(k)) continue;
    switch (k) {
      case 'region':
      case 'instance_type':
      case 'subnet_id':
      case 'user_data':
        driver[k] = v;
        break;
      case 'user_data_file':
        driver.user_data = v;
        break;
      case 'iam_instance_profile':
        driver.iam_profile_name = v;
        break;
      case 'associate_public_ip_address':
        driver.associate_public_ip = v;
        break;
      case 'security_group_id':
        driver.security_group_ids = [v];
        break;
      case 'security_group_ids':
        driver.security_group_ids = v;
        break;
      case 'run_tags':
        driver.tags = v;
        break;
      case 'spot_price':
        // "auto" (Packer's on-demand-capped bid) has no kitchen-ec2 equivalent; a price does
        if (/^\d+(\.\d+)?$/.test(String(v))) driver.spot_price = String(v);
        else unconverted.push(`${where}.spot_price: ${String(v)}`);
        break;
      case 'ebs_optimized':
        driver.ebs_optimized = v;
        break;
      case 'shutdown_behavior':
        driver.instance_initiated_shutdown_behavior = v;
        break;
      case 'metadata_options':
        driver.metadata_options = v;
        break;
      case 'ssh_interface': {
        const iface = { public_ip: 'public', private_ip: 'private', public_dns: 'dns', private_dns: 'dns' }[String(v)];
        if (iface) driver.interface = iface;
        else unconverted.push(`${where}.ssh_interface: ${String(v)}`);
        break;
      }
      case 'launch_block_device_mappings':
        if (Array.isArray(v) && v.every(isObj)) driver.block_device_mappings = v.map(blockDevice);
        else unconverted.push(`${where}.${k}`);
        break;
      case 'source_ami':
        driver.image_id = v;
        break;
      case 'source_ami_filter':
        if (isObj(v)) driver.image_search = imageSearch(v, `${where}.source_ami_filter`, unconverted);
        else unconverted.push(`${where}.source_ami_filter`);
        break;
      case 'ssh_username':
        driver.username = v;
        break;
      case 'ami_name':
        image.name = v;
        break;
      case 'ami_description':
        image.description = v;
        break;
      case 'tags':
        image.tags = v;
        break;
      case 'encrypt_boot':
        image.encrypted = v;
        break;
      case 'kms_key_id':
        image.kms_key_id = v;
        break;
      case 'ami_regions':
        distribute.regions = v;
        break;
      case 'ami_users':
        distribute.accounts = v;
        break;
      case 'ami_org_arns':
        distribute.organization_arns = v;
        break;
      case 'ami_ou_arns':
        distribute.ou_arns = v;
        break;
      case 'snapshot_users':
        distribute.share_snapshots = true;
        unconverted.push(`${where}.snapshot_users: hallmark shares snapshots with the ami_users accounts (distribute.share_snapshots), not a separate list`);
        break;
      case 'region_kms_key_ids':
        distribute.kms_key_ids = v;
        break;
      default:
        unconverted.push(`${where}.${k}`);
    }
  }
  return { driver, image, distribute, platform };
}

function qemuBuilder(b: Obj, where: string, unconverted: string[]) {
  const driver: Obj = { name: 'qemu' };
  const image: Obj = {};
  const distribute: Obj = {};
  for (const [k, v] of Object.entries(b)) {
    if (QEMU_IGNORED.has(k)) continue;
    switch (k) {
      case 'memory':
      case 'cpus':
        driver[k] = typeof v === 'string' ? Number(v) : v;
        break;
      case 'ssh_username':
        driver.username = v;
        break;
      case 'qemuargs':
        if (Array.isArray(v)) driver.qemu_args = v.flat().map(String);
        break;
      case 'vm_name':
        image.name = v;
        break;
      case 'disk_size':
        // Packer: a number, or digits without a unit, are MiB
        driver.disk_size = /^\d+$/.test(String(v)) ? `${String(v)}M` : String(v);
        break;
      case 'format':
        if (v === 'qcow2' || v === 'raw') distribute.format = v;
        else unconverted.push(`${where}.format: ${String(v)} (hallmark: qcow2 or raw)`);
        break;
      case 'accelerator':
        if (v === 'kvm' || v === 'tcg') driver.accel = v;
        else unconverted.push(`${where}.accelerator: ${String(v)} (hallmark: kvm or tcg)`);
        break;
      case 'iso_url':
        // disk_image: true makes iso_url a bootable disk (a cloud image), as hallmark's driver.image URL
        if (b.disk_image === true) driver.image = v;
        else unconverted.push(`${where}.${k}: hallmark boots a prepared base image (driver.image, see \`hallmark base build\`), not an installer ISO`);
        break;
      case 'iso_checksum': {
        const sha = /^(?:sha256:)?([0-9a-fA-F]{64})$/.exec(String(v));
        if (b.disk_image === true && sha) driver.image_checksum = `sha256:${sha[1]!}`;
        else unconverted.push(`${where}.${k}${b.disk_image === true ? ': hallmark checks sha256 only' : ''}`);
        break;
      }
      case 'disk_image':
        if (v !== true) unconverted.push(`${where}.disk_image: false (an installer ISO)`);
        break;
      case 'iso_urls':
        unconverted.push(`${where}.${k}: hallmark boots a prepared base image (driver.image, see \`hallmark base build\`), not an installer ISO`);
        break;
      default:
        unconverted.push(`${where}.${k}`);
    }
  }
  if (!driver.image) driver.image = 'debian-12';
  return { driver, image, distribute, platform: {} };
}

function convertProvisioners(list: unknown[], unconverted: string[]): Obj | undefined {
  let shell: { scripts: string[]; inline: string[]; environment: Obj; rootPath?: string } | undefined;
  let ansible: Obj | undefined;
  list.forEach((raw, i) => {
    const where = `provisioners[${i}]`;
    if (!isObj(raw)) return unconverted.push(where);
    const type = String(raw.type);
    if (type === 'shell' && !ansible) {
      shell ??= { scripts: [], inline: [], environment: {} };
      const s = shell;
      for (const [k, v] of Object.entries(raw)) {
        if (PROVISIONER_COMMON.has(k)) continue;
        if (k === 'script') {
          if (s.inline.length) unconverted.push(`${where}.script: runs after inline commands in Packer; hallmark runs scripts first`);
          s.scripts.push(String(v));
        } else if (k === 'scripts' && Array.isArray(v)) {
          if (s.inline.length) unconverted.push(`${where}.scripts: run after inline commands in Packer; hallmark runs scripts first`);
          s.scripts.push(...v.map(String));
        } else if (k === 'inline' && Array.isArray(v)) s.inline.push(...v.map(String));
        else if (k === 'environment_vars' && Array.isArray(v)) {
          for (const e of v.map(String)) {
            const eq = e.indexOf('=');
            if (eq > 0) s.environment[e.slice(0, eq)] = e.slice(eq + 1);
          }
        } else if (k === 'env' && isObj(v)) Object.assign(s.environment, v);
        else if (k === 'remote_folder' && typeof v === 'string' && /^\/.+/.test(v)) s.rootPath = v;
        else unconverted.push(`${where}.${k}`);
      }
    } else if (type === 'ansible' && !shell && !ansible) {
      ansible = { name: 'ansible_playbook' };
      for (const [k, v] of Object.entries(raw)) {
        if (PROVISIONER_COMMON.has(k)) continue;
        if (k === 'playbook_file') ansible.playbook = v;
        else if (k === 'roles_path') ansible.roles_path = v;
        else if (k === 'groups') ansible.hosts = v;
        else if (k === 'extra_arguments' && Array.isArray(v)) ansible.ansible_extra_flags = v.map(String);
        else if (k === 'galaxy_file') ansible.requirements_path = v;
        else if (k === 'ansible_env_vars' && Array.isArray(v)) {
          const env: Obj = {};
          for (const e of v.map(String)) {
            const eq = e.indexOf('=');
            if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
          }
          ansible.env_vars = env;
        }
        else unconverted.push(`${where}.${k}`);
      }
    } else if (type === 'file') {
      unconverted.push(`${where} (file ${JSON.stringify(raw.source ?? raw.sources)} -> ${JSON.stringify(raw.destination)}): hallmark runs one provisioner per instance; upload it from the ${shell ? 'shell script' : 'playbook'} or use a file provisioner in a suite of its own`);
    } else {
      unconverted.push(`${where} (${type}): hallmark runs one provisioner per instance${shell || ansible ? `, and this template's first is already ${shell ? 'shell' : 'ansible'}` : ''}`);
    }
  });
  if (ansible) return ansible;
  if (!shell) return undefined;
  const out: Obj = { name: 'shell' };
  const s = shell as { scripts: string[]; inline: string[]; environment: Obj; rootPath?: string };
  if (s.scripts.length === 1) out.script = s.scripts[0];
  else if (s.scripts.length > 1) out.scripts = s.scripts;
  if (s.inline.length) out.inline = s.inline;
  if (Object.keys(s.environment).length) out.environment = s.environment;
  if (s.rootPath) out.root_path = s.rootPath;
  return out;
}

/** Converts a parsed Packer JSON template. Throws when it has no builder hallmark can use. */
export function convertPackerTemplate(template: unknown): PackerConversion {
  if (!isObj(template)) throw new Error('a Packer JSON template is an object with "builders"');
  const unconverted: string[] = [];
  const vars: Obj = {};
  if (isObj(template.variables)) for (const [k, v] of Object.entries(template.variables)) vars[k] = v;
  const t = deepExpand(Object.fromEntries(Object.entries(template).filter(([k]) => k !== 'variables')), vars, '', unconverted) as Obj;
  // deepExpand's paths start with "."; strip it from the messages it made
  for (let i = 0; i < unconverted.length; i++) unconverted[i] = unconverted[i]!.replace(/^\./, '');

  for (const k of Object.keys(t)) {
    if (['builders', 'provisioners', 'description', 'min_packer_version', 'sensitive-variables'].includes(k)) continue;
    if (k === 'post-processors') {
      const pp = Array.isArray(t[k]) ? (t[k] as unknown[]).flat() : [];
      pp.forEach((p, i) => unconverted.push(`post-processors[${i}] (${typeof p === 'string' ? p : isObj(p) ? String(p.type) : '?'}): hallmark has no post-processors (see publish: for manifests and distribute: for copies)`));
    } else unconverted.push(k);
  }

  const builders = Array.isArray(t.builders) ? t.builders : [];
  const platforms: Obj[] = [];
  const tops: { driver: Obj; image: Obj; distribute: Obj }[] = [];
  builders.forEach((raw, i) => {
    const where = `builders[${i}]`;
    if (!isObj(raw)) return unconverted.push(where);
    const type = String(raw.type);
    let c;
    if (type === 'amazon-ebs') c = ebsBuilder(raw, where, unconverted);
    else if (type === 'qemu') c = qemuBuilder(raw, where, unconverted);
    else return unconverted.push(`${where} (${type}): hallmark converts amazon-ebs and qemu builders`);
    const qemuImage = String(c.driver.image);
    const name = typeof raw.name === 'string' ? raw.name : c.driver.name === 'qemu' && /^[a-z][a-z0-9.-]*$/.test(qemuImage) ? qemuImage : type;
    tops.push(c);
    platforms.push({ name: name.replace(/[^A-Za-z0-9._-]/g, '-'), driver: c.driver });
  });
  if (!platforms.length) throw new Error(`no builder hallmark can convert (amazon-ebs or qemu) in the template${unconverted.length ? `; not converted: ${unconverted.join('; ')}` : ''}`);

  const config: Obj = {};
  // One builder: its settings are the top-level blocks; several: one platform each.
  const first = tops[0]!;
  if (platforms.length === 1) {
    config.driver = first.driver;
  }
  const provisioner = convertProvisioners(Array.isArray(t.provisioners) ? t.provisioners : [], unconverted);
  if (provisioner) config.provisioner = provisioner;
  config.verifier = { name: 'spec' };
  const image = { ...first.image };
  if (image.name === undefined) image.name = '{{suite}}-{{platform}}-{{timestamp}}';
  config.image = image;
  if (Object.keys(first.distribute).length) config.distribute = first.distribute;
  if (tops.length > 1) {
    tops.slice(1).forEach((c, i) => {
      if (JSON.stringify(c.image) !== JSON.stringify(first.image) || JSON.stringify(c.distribute) !== JSON.stringify(first.distribute)) {
        Object.assign(platforms[i + 1]!, Object.keys(c.image).length ? { image: c.image } : {}, Object.keys(c.distribute).length ? { distribute: c.distribute } : {});
      }
    });
  }
  config.platforms = platforms.length === 1 ? [{ name: platforms[0]!.name }] : platforms;
  config.suites = [{ name: 'default' }];
  return { config, unconverted };
}
