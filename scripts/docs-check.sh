#!/usr/bin/env bash
# The generated reference docs match their sources: docs/configuration.md is the output of
# `talos config schema --format markdown`, docs/cli.md that of `scripts/cli-docs.py BINARY` (from the binary's
# `--experimental-dump-help`), docs/api.md that of `scripts/api-docs.py` (from the OpenAPI document the server
# serves). Regenerate them with those commands when a key, a command or an operation changes.
#   scripts/docs-check.sh BINARY
set -euo pipefail
binary=$(realpath "${1:-.build/debug/talos}")
cd "$(dirname "$0")/.."
. scripts/lib.sh
check "docs/configuration.md is what \`talos config schema --format markdown\` prints" \
  diff -u docs/configuration.md <("$binary" config schema --format markdown)
check "docs/cli.md is what scripts/cli-docs.py prints from \`talos --experimental-dump-help\`" \
  diff -u docs/cli.md <(scripts/cli-docs.py "$binary")
check "docs/api.md is what scripts/api-docs.py prints from the OpenAPI document" \
  diff -u docs/api.md <(scripts/api-docs.py Sources/TalosHost/Resources/openapi.json)
keys=$("$binary" config schema --format json | jq '.keys | length')
check "talos config schema lists every key once ($keys keys)" \
  test "$("$binary" config schema --format json | jq '[.keys[].path] | unique | length')" = "$keys"
echo "docs-check: $passed passed, $failed failed"
test "$failed" = 0
