#!/bin/sh
# Trims a production node_modules (after `npm ci --omit=dev`) of what no running service reads:
# the Temporal SDK's native library for other platforms (the core bridge ships five prebuilds,
# ~27 MiB each, and loads only releases/<this arch-platform>/index.node) and its Rust sources
# (sdk-core/). Used by the Dockerfile's build stage, test/build/dist.test.ts and bench/image.sh,
# so the tree that is tested and measured is the one the image holds.
# Usage: scripts/prune-production-deps.sh <dir holding node_modules>
set -eu
dir=${1:?usage: prune-production-deps.sh <dir holding node_modules>}
bridge="$dir/node_modules/@temporalio/core-bridge"
[ -d "$bridge" ] || { echo "prune-production-deps: $bridge not found" >&2; exit 1; }
# The SDK's own rule for which prebuild it loads (common.js getPrebuiltTargetName).
keep=$(node -p "require('$bridge/common.js').getPrebuiltTargetName()")
[ -f "$bridge/releases/$keep/index.node" ] || { echo "prune-production-deps: no prebuild for $keep" >&2; exit 1; }
for d in "$bridge"/releases/*; do
  [ "$(basename "$d")" = "$keep" ] || rm -rf "$d"
done
rm -rf "$bridge/sdk-core"
