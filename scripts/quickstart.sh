#!/usr/bin/env bash
# From a fresh Debian 12 machine with Node.js (as root): install everything,
# build the tool, then take the newcomer's path in ./quickstart-project (or the
# directory given as $1): `hallmark init`, a base image from Debian's mirror,
# and a verified nginx image built on a local VM. See scripts/quickstart-project.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm ci --no-audit --no-fund
npm run build
exec bash scripts/quickstart-project.sh "${1:-$PWD/quickstart-project}"
