import type { PluginKind } from '../plugins.js';

/**
 * What Test Kitchen's plugins accept, as tables: Kitchen hands every key of a
 * block to its plugin, so a kitchen.yml carries the options of the plugin it
 * was written for. hallmark implements many of them (its plugin schemas say
 * which); every other option listed here is accepted with the note "accepted;
 * no effect in hallmark", and a key in no table and no schema is a warning.
 *
 * A light module: plain data, no plugin schema or implementation imported, so
 * `hallmark list` stays fast.
 *
 * The lists are each plugin's `default_config` lines plus the `config[:x]`
 * keys its code reads, and those of its Kitchen base class:
 * - kitchen-ec2 355bbe9 lib/kitchen/driver/ec2.rb, aws/instance_generator.rb
 * - test-kitchen f1d01d3 lib/kitchen/transport/ssh.rb, driver/proxy.rb,
 *   driver/base.rb, provisioner/base.rb, provisioner/shell.rb,
 *   verifier/base.rb, verifier/shell.rb, data_munger.rb
 * - kitchen-ansible 161b04c lib/kitchen/provisioner/ansible/config.rb,
 *   ansible_playbook.rb, provisioner_options.md
 * - kitchen-inspec 262a1f2 lib/kitchen/verifier/inspec.rb
 */
export interface KitchenPluginOptions {
  /** The Kitchen plugin these options come from (for messages). */
  plugin: string;
  /** Every option the Kitchen plugin reads. */
  options: readonly string[];
  /**
   * Options hallmark's schema takes so that files load, but that change
   * nothing (each gets the note when set).
   */
  noEffect?: readonly string[];
  /** Options the Kitchen plugin itself refuses ("has been removed, please use ..."): what to use instead. */
  removed?: Readonly<Record<string, string>>;
}

/** Keys Kitchen itself puts into every block (data_munger's set_kitchen_config_at!). */
const KITCHEN_SET = ['kitchen_root', 'test_base_path', 'log_level', 'debug'];

/** Kitchen::Driver::Base; `pre_create_command` is moved to `lifecycle.pre_create` by the loader. */
const DRIVER_BASE = [...KITCHEN_SET, 'pre_create_command'];

/** Kitchen::Provisioner::Base. */
const PROVISIONER_BASE = [
  ...KITCHEN_SET,
  'http_proxy',
  'https_proxy',
  'ftp_proxy',
  'retry_on_exit_code',
  'max_retries',
  'wait_for_retry',
  'root_path',
  'sudo',
  'sudo_command',
  'command_prefix',
  'uploads',
  'downloads',
  // moved from the suite and platform into the provisioner by data_munger (Chef's)
  'attributes',
  'run_list',
  'named_run_list',
  'policy_group',
  'require_chef_omnibus',
];

/** Kitchen::Verifier::Base. */
const VERIFIER_BASE = [...KITCHEN_SET, 'http_proxy', 'https_proxy', 'ftp_proxy', 'root_path', 'sudo', 'chef_omnibus_root', 'sudo_command', 'command_prefix', 'suite_name'];

const KITCHEN_EC2: KitchenPluginOptions = {
  plugin: 'kitchen-ec2',
  options: [
    ...DRIVER_BASE,
    // default_config
    'region',
    'shared_credentials_profile',
    'availability_zone',
    'instance_type',
    'ebs_optimized',
    'delete_on_termination',
    'security_group_ids',
    'security_group_filter',
    'security_group_cidr_ip',
    'tags',
    'user_data',
    'private_ip_address',
    'iam_profile_name',
    'spot_price',
    'block_duration_minutes',
    'retryable_tries',
    'spot_wait',
    'retryable_sleep',
    'aws_ssh_key_id',
    'aws_ssh_key_type',
    'image_id',
    'image_search',
    'username',
    'associate_public_ip',
    'associate_ipv6',
    'interface',
    'http_proxy',
    'retry_limit',
    'tenancy',
    'instance_initiated_shutdown_behavior',
    'ssl_verify_peer',
    'skip_cost_warning',
    'allocate_dedicated_host',
    'deallocate_dedicated_host',
    'use_instance_connect',
    'instance_connect_endpoint_id',
    'instance_connect_max_tunnel_duration',
    'use_ssm_session_manager',
    'ssm_session_manager_document_name',
    // read without a default
    'subnet_id',
    'subnet_filter',
    'block_device_mappings',
    'metadata_options',
    'placement',
    'licenses',
    'elastic_network_interface_id',
  ],
  removed: {
    ebs_volume_size: 'block_device_mappings',
    ebs_delete_on_termination: 'block_device_mappings',
    ebs_device_name: 'block_device_mappings',
    ssh_key: 'transport.ssh_key',
    ssh_timeout: 'transport.connection_timeout',
    ssh_retries: 'transport.connection_retries',
    flavor_id: 'instance_type',
    aws_access_key_id: "the AWS_ACCESS_KEY_ID environment variable or ~/.aws/credentials (kitchen-ec2 refuses it in the file too)",
    aws_secret_access_key: 'the AWS_SECRET_ACCESS_KEY environment variable or ~/.aws/credentials (kitchen-ec2 refuses it in the file too)',
    aws_session_token: 'the AWS_SESSION_TOKEN environment variable or ~/.aws/credentials (kitchen-ec2 refuses it in the file too)',
  },
};

const SSH_TRANSPORT: KitchenPluginOptions = {
  plugin: "Test Kitchen's ssh transport",
  options: [
    ...KITCHEN_SET,
    'hostname',
    'port',
    'username',
    'password',
    'keepalive',
    'keepalive_interval',
    'keepalive_maxcount',
    'max_ssh_sessions',
    'connection_timeout',
    'connection_retries',
    'connection_retry_sleep',
    'max_wait_until_ready',
    'ssh_gateway',
    'ssh_gateway_port',
    'ssh_gateway_username',
    'ssh_http_proxy',
    'ssh_http_proxy_port',
    'ssh_http_proxy_user',
    'ssh_http_proxy_password',
    'ssh_proxy_command',
    'ssh_key',
    'ssh_key_only',
    'compression',
    'compression_level',
    'forward_agent',
    'verbose',
  ],
  noEffect: ['connection_retries', 'compression_level'],
};

const PROXY_DRIVER: KitchenPluginOptions = {
  plugin: "Test Kitchen's proxy driver",
  options: [...DRIVER_BASE, 'host', 'reset_command', 'port', 'username', 'password'],
};

/** kitchen-ansible's options for a machine that runs Ansible itself (its default, ansible_connection: local). */
export const ANSIBLE_ON_MACHINE_OPTIONS = [
  'ansible_version',
  'ansible_platform',
  'ansible_connection',
  'ansible_apt_repo',
  'ansible_yum_repo',
  'ansible_sles_repo',
  'python_sles_repo',
  'enable_yum_epel',
  'require_ansible_repo',
  'require_ansible_omnibus',
  'ansible_omnibus_url',
  'ansible_omnibus_remote_path',
  'require_ansible_source',
  'ansible_source_rev',
  'require_pip',
  'require_pip3',
  'require_windows_support',
  'require_chef_for_busser',
  'require_ruby_for_busser',
  'chef_bootstrap_url',
  'update_package_repos',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'additional_copy_path',
  'ansible_host_key_checking',
  'ssh_known_hosts',
  'ansible_inventory',
  'ansible_inventory_file',
  'root_path',
  'sudo',
  'sudo_command',
  'custom_pre_install_command',
  'custom_post_install_command',
  'custom_pre_play_command',
  'custom_post_play_command',
  'shell_command',
  'kerberos_conn',
  'require_ansible_galaxy',
] as const;

const KITCHEN_ANSIBLE: KitchenPluginOptions = {
  plugin: 'kitchen-ansible',
  options: [
    ...PROVISIONER_BASE,
    // default_config (ansible/config.rb)
    'ansible_sudo',
    'ansible_verbose',
    'require_ansible_omnibus',
    'ansible_omnibus_url',
    'ansible_omnibus_remote_path',
    'ansible_version',
    'require_ansible_repo',
    'enable_yum_epel',
    'extra_vars',
    'extra_vars_file',
    'env_vars',
    'tags',
    'ansible_apt_repo',
    'ansible_yum_repo',
    'ansible_sles_repo',
    'python_sles_repo',
    'chef_bootstrap_url',
    'require_chef_for_busser',
    'require_ruby_for_busser',
    'require_windows_support',
    'require_pip',
    'require_pip3',
    'requirements_path',
    'requirements_collection_path',
    'ssh_known_hosts',
    'additional_ssh_private_keys',
    'ansible_verbosity',
    'ansible_check',
    'ansible_diff',
    'ansible_platform',
    'ansible_connection',
    'update_package_repos',
    'require_ansible_source',
    'ansible_source_url',
    'ansible_source_rev',
    'no_proxy',
    'ansible_playbook_command',
    'ansible_host_key_checking',
    'idempotency_test',
    'idempotency_tags',
    'idempotency_skip_tags',
    'ansible_inventory',
    'ansible_inventory_file',
    'ansible_limit',
    'ignore_extensions_from_root',
    'ignore_paths_from_root',
    'role_name',
    'additional_copy_role_path',
    'shell_command',
    'custom_pre_install_command',
    'custom_pre_play_command',
    'custom_post_install_command',
    'custom_post_play_command',
    'show_command_output',
    'ignore_ansible_cfg',
    'ansible_cfg_overwrite',
    'galaxy_ignore_certs',
    'keep_playbook_path',
    'playbook',
    'roles_path',
    'ansible_binary_path',
    'group_vars_path',
    'additional_copy_path',
    'recursive_additional_copy_path',
    'host_vars_path',
    'modules_path',
    'ansiblefile_path',
    'library_plugins_path',
    'callback_plugins_path',
    'filter_plugins_path',
    'lookup_plugins_path',
    'ansible_vault_password_file',
    'kerberos_conf_file',
    'ansible_cfg_path',
    // read by ansible_playbook.rb or documented in provisioner_options.md
    'ansible_extra_flags',
    'hosts',
    'private_key',
    'ansible_package_name',
  ],
  noEffect: ANSIBLE_ON_MACHINE_OPTIONS,
};

const KITCHEN_INSPEC: KitchenPluginOptions = {
  plugin: 'kitchen-inspec',
  options: [
    ...VERIFIER_BASE,
    'inspec_tests',
    'load_plugins',
    'plugin_config',
    'backend_cache',
    'attributes',
    'attrs',
    'cache_inputs',
    'chef_license_key',
    'chef_license_server',
    'color',
    'controls',
    'format',
    'forward_agent',
    'host',
    'input_files',
    'inputs',
    'output',
    'port',
    'profiles_path',
    'proxy_command',
    'reporter',
    'sudo_options',
    'waiver_files',
  ],
  noEffect: ['backend_cache'],
};

const KITCHEN_SHELL_PROVISIONER: KitchenPluginOptions = {
  plugin: "Test Kitchen's shell provisioner",
  options: [...PROVISIONER_BASE, 'script', 'command', 'arguments', 'data_path'],
};

const KITCHEN_SHELL_VERIFIER: KitchenPluginOptions = {
  plugin: "Test Kitchen's shell verifier",
  options: [...VERIFIER_BASE, 'sleep', 'command', 'shellout_opts', 'live_stream', 'remote_exec'],
};

const TABLES: Record<PluginKind, Record<string, KitchenPluginOptions>> = {
  driver: { ec2: KITCHEN_EC2, proxy: PROXY_DRIVER },
  transport: { ssh: SSH_TRANSPORT },
  provisioner: { ansible_playbook: KITCHEN_ANSIBLE, shell: KITCHEN_SHELL_PROVISIONER },
  verifier: { inspec: KITCHEN_INSPEC, 'cinc-auditor': KITCHEN_INSPEC, shell: KITCHEN_SHELL_VERIFIER },
};

/** The Kitchen options of the plugin hallmark runs as `kind`/`name`, when it has a Kitchen counterpart. */
export function kitchenOptions(kind: PluginKind, name: string): KitchenPluginOptions | undefined {
  return Object.hasOwn(TABLES[kind], name) ? TABLES[kind][name] : undefined;
}

/**
 * Kitchen's spellings of plugins hallmark runs under another name:
 * `cinc_auditor` (the Kitchen verifier's name) is hallmark's `cinc-auditor`.
 */
const ALIASES: Record<PluginKind, Record<string, string>> = {
  driver: {},
  transport: {},
  provisioner: {},
  verifier: { cinc_auditor: 'cinc-auditor' },
};

export function pluginAlias(kind: PluginKind, name: string): string | undefined {
  return Object.hasOwn(ALIASES[kind], name) ? ALIASES[kind][name] : undefined;
}

/**
 * Test Kitchen plugins hallmark does not run: a file naming one still loads
 * and lists; an action that needs it fails with notRunMessage, naming it.
 * (Kitchen's built-ins, then the common gems: kitchen-vagrant, -docker,
 * -dokken, -terraform, -azurerm, -google, -openstack, -vcenter, -hyperv,
 * -digitalocean, -puppet, -salt, -pester, -verifier-serverspec, kitchen-sync.)
 */
const NOT_RUN: Record<PluginKind, readonly string[]> = {
  driver: ['vagrant', 'docker', 'dokken', 'terraform', 'exec', 'dummy', 'azurerm', 'gce', 'openstack', 'vcenter', 'hyperv', 'digitalocean', 'podman', 'lxd_cli'],
  provisioner: ['chef_zero', 'dokken', 'chef_solo', 'chef_infra', 'chef_apply', 'chef_target', 'dummy', 'puppet_apply', 'puppet_agent', 'salt_solo', 'terraform', 'dsc', 'ansible_push'],
  transport: ['winrm', 'exec', 'dummy', 'terraform', 'dokken', 'docker', 'sftp', 'rsync'],
  verifier: ['busser', 'dummy', 'terraform', 'serverspec', 'pester'],
};

export function isKitchenPluginNotRun(kind: PluginKind, name: string): boolean {
  return NOT_RUN[kind].includes(name);
}

/** "`vagrant` is a Test Kitchen driver that hallmark does not run; hallmark runs: qemu, ec2, proxy" */
export function notRunMessage(kind: PluginKind, name: string, runs: readonly string[]): string {
  return `\`${name}\` is a Test Kitchen ${kind} that hallmark does not run; hallmark runs: ${runs.join(', ')}`;
}
