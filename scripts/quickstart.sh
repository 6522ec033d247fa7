#!/usr/bin/env bash
# From a fresh Debian 12 machine with Node.js: install everything, build the
# tool, make a bootable Debian 12 base image from Debian's mirror, then build a
# verified nginx image on a local VM (examples/quickstart).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm ci --no-audit --no-fund
npm run build
cd examples/quickstart
../../bin/hallmark base build debian-12
../../bin/hallmark build debian-12
cat env.properties
