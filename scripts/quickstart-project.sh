#!/usr/bin/env bash
# The quickstart after the installs (scripts/quickstart.sh runs this last; the
# e2e test test/e2e/qemu-build.test.ts runs it as it is): in DIR (default
# ./quickstart-project) scaffold a project with `hallmark init`, make the
# Debian 12 base image (reused when cached), build and verify the image on a
# local VM, and say where the outputs are. A DIR that already has a
# hallmark.yml is built as it is (a second run does not re-scaffold).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
hallmark="$repo/bin/hallmark"
dir="${1:-$PWD/quickstart-project}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
cd "$dir"
if [ -e hallmark.yml ]; then
  echo "==> $dir already has a hallmark.yml: building it as it is"
else
  echo "==> hallmark init --driver qemu --provisioner shell   (in $dir)"
  "$hallmark" init --driver qemu --provisioner shell
fi
echo "==> hallmark base build debian-12"
"$hallmark" base build debian-12
echo "==> hallmark build"
"$hallmark" build
echo
echo "==> $dir/env.properties"
cat env.properties
cat <<MSG

The image is verified and stored (hallmark images lists it). Outputs in $dir:
  env.properties  IMAGE_ID of the image
  manifest.json   the build: image, checksum, timings, check results
  junit.xml       the checks, for CI
  report.html     the report: timeline, every check, the image (open it in a browser)

Next (hallmark is $hallmark: export PATH="$repo/bin:\$PATH"), in $dir:
  edit provision.sh and test/integration/default/web.yml, then
  hallmark converge                    # a VM from the base image, provisioned; it keeps running
  hallmark verify                      # the checks against it (again after each edit and converge)
  hallmark login default-debian-12     # a shell on it
  hallmark destroy                     # remove it
  hallmark build                       # the whole pipeline: a new image only if every check passes
MSG
