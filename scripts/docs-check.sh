#!/usr/bin/env bash
# The generated reference docs match what the binary says: docs/configuration.md is the output of
# `talos config schema --format markdown` (regenerate it with that command when a key changes).
#   scripts/docs-check.sh BINARY
set -euo pipefail
binary=$(realpath "${1:-.build/debug/talos}")
cd "$(dirname "$0")/.."
. scripts/lib.sh
check "docs/configuration.md is what \`talos config schema --format markdown\` prints" \
  diff -u docs/configuration.md <("$binary" config schema --format markdown)
keys=$("$binary" config schema --format json | jq '.keys | length')
check "talos config schema lists every key once ($keys keys)" \
  test "$("$binary" config schema --format json | jq '[.keys[].path] | unique | length')" = "$keys"
echo "docs-check: $passed passed, $failed failed"
test "$failed" = 0
