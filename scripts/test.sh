#!/usr/bin/env bash
# The whole test suite: unit, conformance and in-process HTTP tests, then the end-to-end quickstart against the real
# `talos` binary on loopback. Builds once (debug) and runs everything from that build.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build --parallel --num-workers 2
scripts/e2e.sh .build/debug/talos
