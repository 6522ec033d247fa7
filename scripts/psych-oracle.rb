#!/usr/bin/env ruby
# frozen_string_literal: true

# What Ruby's YAML (Psych, as Test Kitchen calls it: YAML.safe_load with
# Symbol permitted and aliases) makes of plain scalars, written to
# test/fixtures/config/psych-scalars.json for src/config/psych-scalars.test.ts.
#
#   ruby scripts/psych-oracle.rb
require 'yaml'
require 'json'

SCALARS = %w[
  yes Yes YES yEs no No NO on On ON off Off OFF y Y n N true True TRUE tRUE false False FALSE
  ~ null Null NULL nULL
  0 7 -7 +12 -0 0644 -0644 0o644 0x1F 0x1f -0x10 0b101 1_000 1,000 012345678901 0123456701 08 09 00
  1:30 1:30:00 -1:30 190:20:30 1:60 1:30.5
  1.5 -1.5 +1.5 1_000.5 .5 5. 1.0 8.0 22.04 15.10 1.0e+3 1.0e3 1e3 12e
  .inf -.inf +.inf .Inf .nan .NaN
  abc t3.micro ubuntu-22.04 2.7.1 v1 1.2.3 -- + . 0.0.0.0 1e 0x 0b 0xZZ :sym 2023-01-01 ä ~x
].freeze

cases = SCALARS.map do |s|
  v = begin
    YAML.safe_load("k: #{s}", permitted_classes: [Symbol], permitted_symbols: [], aliases: true)['k']
  rescue StandardError => e
    next { scalar: s, error: e.class.name }
  end
  type = case v
         when nil then 'null'
         when true, false then 'bool'
         when Integer then 'int'
         when Float then 'float'
         when String then 'str'
         else v.class.name
         end
  value = v.is_a?(Float) && (v.nan? || v.infinite?) ? v.to_s : v
  { scalar: s, type: type, value: value }
end

out = File.expand_path('../test/fixtures/config/psych-scalars.json', __dir__)
File.write(out, "#{JSON.pretty_generate({ ruby: RUBY_VERSION, psych: Psych::VERSION, cases: cases })}\n")
puts "#{cases.size} scalars -> #{out}"
