#!/usr/bin/env ruby
# frozen_string_literal: true

# Asks Test Kitchen itself which instances a project has, in Kitchen's order,
# and writes them to each fixture's expected-instances.txt, so that
# src/config/kitchen-fixtures.test.ts compares hallmark with Kitchen and not
# with hallmark's own idea of Kitchen. The tests then need no Ruby.
#
# It runs Kitchen's own code from its source tree: Loader::YAML (files, ERB,
# KITCHEN_* variables, global < project < local), DataMunger (legacy keys),
# Config#filter_instances (includes/excludes, PlatformFilter regexes) and
# Instance.name_for. Nothing of Kitchen is re-implemented here; only the
# plugins (drivers etc.), which listing does not need, are never loaded.
#
#   apt-get install -y ruby
#   git clone https://github.com/test-kitchen/test-kitchen /tmp/tk   (or extract its lib/ there)
#   ruby scripts/kitchen-oracle.rb /tmp/tk/lib test/fixtures/kitchen/*/
#
# Each fixture directory holds the project files and may hold:
#   env.json   the environment Kitchen runs with (ERB reads it; KITCHEN_YAML, ...)
#   home/      $HOME (home/.kitchen/config.yml is Kitchen's global file)
#
# The one documented difference: a file without `suites:` has no instances in
# Kitchen; hallmark gives it one suite named `default`. For such a file the
# oracle asks Kitchen with `suites: [{name: default}]` added, and says so on the
# first line of the expected file.
require 'json'
require 'logger'
require 'tmpdir'

kitchen_lib = ARGV.shift or abort 'usage: kitchen-oracle.rb KITCHEN_LIB_DIR FIXTURE_DIR...'
$LOAD_PATH.unshift(File.expand_path(kitchen_lib))

# Stand-in for the one gem the loading code requires: kitchen/util.rb requires
# thor/util for camel_case/snake_case, which only plugin loading calls.
unless begin
  require 'thor/util'
rescue LoadError
  false
end
  $LOADED_FEATURES << 'thor/util.rb'
  module Thor
    module Util
      def self.camel_case(str)
        str.split('_').map(&:capitalize).join
      end

      def self.snake_case(str)
        str.gsub(/([A-Z]+)([A-Z][a-z])/, '\\1_\\2').gsub(/([a-z\d])([A-Z])/, '\\1_\\2').downcase
      end
    end
  end
end
require 'kitchen/errors'
require 'kitchen/util'
require 'kitchen/logging'
require 'kitchen/collection'
require 'kitchen/platform_filter'
require 'kitchen/suite'
require 'kitchen/platform'
require 'kitchen/loader/yaml'
require 'kitchen/data_munger'
require 'kitchen/instance'
require 'kitchen/driver'
require 'kitchen/provisioner'
require 'kitchen/verifier'
require 'kitchen/transport'
require 'kitchen/config'

module Kitchen
  DEFAULT_LOG_LEVEL = :info unless defined?(DEFAULT_LOG_LEVEL)
  DEFAULT_LOG_OVERWRITE = true unless defined?(DEFAULT_LOG_OVERWRITE)
  def self.tty?
    false
  end
end

saved_env = ENV.to_h
ARGV.each do |dir|
  dir = File.expand_path(dir)
  env_file = File.join(dir, 'env.json')
  env = File.exist?(env_file) ? JSON.parse(File.read(env_file)) : {}
  ENV.replace(env.merge('HOME' => File.join(dir, 'home')))
  names, added = Dir.chdir(dir) do
    # As lib/kitchen/cli.rb builds its loader.
    loader = Kitchen::Loader::YAML.new(
      project_config: ENV['KITCHEN_YAML'] || ENV['KITCHEN_YML'],
      local_config: ENV['KITCHEN_LOCAL_YAML'] || ENV['KITCHEN_LOCAL_YML'],
      global_config: ENV['KITCHEN_GLOBAL_YAML'] || ENV['KITCHEN_GLOBAL_YML']
    )
    config = Kitchen::Config.new(loader: loader, kitchen_root: dir, log_root: Dir.tmpdir, test_base_path: File.join(dir, 'test'))
    data = config.send(:data).instance_variable_get(:@data)
    added = data.fetch(:suites, nil).nil? || data[:suites].empty?
    data[:suites] = [{ name: 'default' }] if added
    [config.send(:filter_instances).map { |suite, platform| Kitchen::Instance.name_for(suite, platform) }, added]
  end
  header = added ? "# no suites: Kitchen lists none; hallmark adds one suite named default, so this is Kitchen's list with it\n" : ''
  File.write(File.join(dir, 'expected-instances.txt'), header + names.map { |n| "#{n}\n" }.join)
  puts "#{File.basename(dir)}: #{names.size} instance(s)#{added ? ' (suite default added)' : ''}"
ensure
  ENV.replace(saved_env)
end
