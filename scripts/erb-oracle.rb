#!/usr/bin/env ruby
# frozen_string_literal: true

# Writes what Ruby's ERB (as Test Kitchen calls it: ERB.new(text).result, no
# trim mode) makes of each template below, with the given environment, to
# test/fixtures/config/erb-ruby.json. src/config/erb.test.ts checks hallmark's
# ERB against that file, so the expectations are Ruby's, not ours.
#
#   ruby scripts/erb-oracle.rb    (Debian: apt-get install -y ruby)
require 'erb'
require 'json'

CASES = [
  ["<%= ENV['A'] %>", { 'A' => 'alpha' }],
  ["<%= ENV[\"A\"] %>", { 'A' => 'alpha' }],
  ["<%=ENV['A']%>", { 'A' => 'alpha' }],
  ["<%= ENV['X'] %>", {}],
  ["<%= ENV['X'] || 'default' %>", {}],
  ["<%= ENV['X'] || 'default' %>", { 'X' => '' }],
  ["<%= ENV['X'] || 'default' %>", { 'X' => 'set' }],
  ["<%= ENV['X'] || ENV['Y'] %>", { 'Y' => 'why' }],
  ["<%= ENV['X'] || ENV['Y'] %>", { 'X' => 'ex', 'Y' => 'why' }],
  ["<%= ENV['X'] || ENV['Y'] %>", {}],
  ["<%= ENV['X'] || ENV['Y'] || 'z' %>", {}],
  ["<%= ENV['X'] || nil %>", {}],
  ["<%= ENV['X'] || nil %>", { 'X' => 'x' }],
  ["<%= !ENV['CI'] %>", {}],
  ["<%= !ENV['CI'] %>", { 'CI' => '' }],
  ["<%= !ENV['CI'] %>", { 'CI' => 'true' }],
  ["<%= !!ENV['CI'] %>", { 'CI' => 'false' }],
  ["<%= ENV['N'].to_i %>", { 'N' => '12abc' }],
  ["<%= ENV['N'].to_i %>", { 'N' => ' -3' }],
  ["<%= ENV['N'].to_i %>", { 'N' => '1_000' }],
  ["<%= ENV['N'].to_i %>", { 'N' => 'abc' }],
  ["<%= ENV['N'].to_i %>", {}],
  ["<%= (ENV['N'] || 2048).to_i %>", {}],
  ["<%= ENV['X'].to_s %>", {}],
  ["<%= ENV['X'].to_s %>", { 'X' => 'x' }],
  ["<%= \"ami-\#{ENV['X']}\" %>", { 'X' => '123' }],
  ["<%= \"ami-\#{ENV['X']}\" %>", {}],
  ["<%= \"\#{ENV['A']}-\#{ENV.fetch('B', 'b')}\" %>", { 'A' => 'a' }],
  ["<%= ENV.fetch('X') %>", {}],
  ["<%= ENV.fetch('X') %>", { 'X' => 'x' }],
  ["<%= ENV.fetch('X', 'd') %>", {}],
  ["<%= ENV.fetch(\"X\", \"d f\") %>", {}],
  ["<%= ENV.fetch('X', nil) %>", {}],
  ["<%= ENV.fetch('X') { 'blk' } %>", {}],
  ["<%= ENV.fetch('X', ENV['Y'] || 'yy') %>", {}],
  ["<%= ENV['X'] ? 'on' : 'off' %>", {}],
  ["<%= ENV['X'] ? 'on' : 'off' %>", { 'X' => '' }],
  ["<%= ENV['X'] == 'true' %>", { 'X' => 'true' }],
  ["<%= ENV['X'] == 'true' %>", {}],
  ["<%= ENV['X'] != 'false' %>", {}],
  ["<%= ENV['X'].upcase %>", {}],
  ["<%= ENV['X'].upcase %>", { 'X' => 'Mixed' }],
  ["<%= ENV['X'].downcase.strip %>", { 'X' => ' MiXed ' }],
  ["<%= (ENV['X'] || 'a').upcase %>", {}],
  ["<%= ENV['A'] && ENV['B'] %>", { 'A' => 'a', 'B' => 'b' }],
  ["<%= ENV['A'] && ENV['B'] %>", { 'B' => 'b' }],
  ["<%= ENV['X'].nil? %>", {}],
  ["<%= ENV['X'].empty? %>", { 'X' => '' }],
  ["<%= ENV['X'].to_s.empty? ? 'none' : ENV['X'] %>", {}],
  ["<%= ENV.key?('X') %>", { 'X' => '' }],
  ["<%= ENV.key?('X') %>", {}],
  ["<%= 'it\\'s' %>", {}],
  ["<%= \"tab\\tend\" %>", {}],
  ["<%= 3 %>", {}],
  ["<%= nil %>", {}],
  ["<%= false %>", {}],
  ["<%= ENV['X'] || \"\#{ENV['Y']}-x\" %>", {}],
  ["a: \"<%%= literal %>\"", {}],
  ["a: <%# a comment %>1", {}],
  ["a: 1 # <%= ENV['X'] %>", {}],
].freeze

results = CASES.map do |template, env|
  ENV.replace(env)
  begin
    { template: template, env: env, output: ERB.new(template).result }
  rescue StandardError, ScriptError => e
    { template: template, env: env, error: e.class.name }
  end
end

out = File.expand_path('../test/fixtures/config/erb-ruby.json', __dir__)
File.write(out, "#{JSON.pretty_generate({ ruby: RUBY_VERSION, cases: results })}\n")
puts "#{results.size} cases -> #{out}"
