#!/usr/bin/env bash
# The whole test suite, built once (debug) and run from that build:
#   1. unit, conformance and in-process HTTP tests (swift test), Postgres suites included;
#   2. end-to-end against the real `talos` binary on loopback: SQLite (quickstart, wire checks, hot reload,
#      SIGTERM, hardening, a slow-reader storm, no secret in any log or span), every endpoint and CLI command with
#      curl (e2e-api.sh, server modes included) and PostgreSQL (migrations, quickstart, two replicas, crypto swap,
#      database outage), and the example Hummingbird service behind two replicas (TalosHummingbird, the revocation
#      feed); admin keys (spec §16.3): the bootstrap CLI, permissions, audit, Ory's Python SDK with an access token,
#      and the API walk, schemathesis, the two-replica and middleware suites once more with admin auth on; usage
#      analytics counted exactly across two replicas (and a kill -9 measured); every Grafana dashboard query against
#      a real Prometheus scraping a real server; the web console walked in headless Chromium; forward auth behind
#      real nginx and Caddy; the edge node (talos proxy) in front of two replicas;
#   3. coverage-guided fuzzing of the parsers an attacker reaches, a bounded run per target (scripts/fuzz.sh).
# PostgreSQL comes from scripts/postgres.sh (a throwaway server under /tmp). Under CI (CI set) it is mandatory;
# elsewhere the Postgres parts are skipped with a notice when PostgreSQL is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
pg_port=${TALOS_TEST_PG_PORT:-55432}
if [ -z "${TALOS_TEST_POSTGRES_DSN:-}" ]; then
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ -n "${CI:-}" ]; then
    TALOS_TEST_POSTGRES_DSN=$(scripts/postgres.sh start "$pg_port")
    export TALOS_TEST_POSTGRES_DSN
  else
    echo "notice: PostgreSQL is not installed; skipping the Postgres suites (apt-get install postgresql)" >&2
  fi
fi
swift format lint --strict -r -p Sources Tests Benchmarks Examples Package.swift Fuzz/Sources Fuzz/Package.swift
scripts/import-check.py
swift build --build-tests --explicit-target-dependency-import-check error
swift test --skip-build --parallel --num-workers 2
scripts/docs-check.sh .build/debug/talos
scripts/e2e.sh .build/debug/talos
scripts/e2e-api.sh .build/debug/talos
E2E_ADMIN_AUTH=1 scripts/e2e-api.sh .build/debug/talos
scripts/e2e-admin-auth.sh .build/debug/talos
scripts/e2e-hardening.sh .build/debug/talos
scripts/e2e-storm.sh .build/debug/talos
scripts/e2e-metrics.sh .build/debug/talos
scripts/compose-check.sh .build/debug/talos
tools=$(scripts/python-tools.sh)
scripts/e2e-tracing.sh .build/debug/talos "$tools"
scripts/e2e-secrets.sh .build/debug/talos "$tools" "${TALOS_TEST_POSTGRES_DSN:-}"
scripts/e2e-jwks.sh .build/debug/talos "$tools"
scripts/e2e-ory-sdk.sh .build/debug/talos "$tools"
scripts/e2e-console.sh .build/debug/talos "$tools"
scripts/e2e-gateways.sh .build/debug/talos
scripts/openapi-check.sh .build/debug/talos "$tools"
SCHEMATHESIS="$tools/schemathesis" scripts/schemathesis.sh .build/debug/talos
ST_ADMIN_AUTH=1 SCHEMATHESIS="$tools/schemathesis" scripts/schemathesis.sh .build/debug/talos
if [ -n "${TALOS_TEST_POSTGRES_DSN:-}" ]; then
  scripts/e2e-postgres.sh .build/debug/talos "$TALOS_TEST_POSTGRES_DSN" "$pg_port"
  scripts/e2e-cluster.sh .build/debug/talos "$TALOS_TEST_POSTGRES_DSN"
  E2E_ADMIN_AUTH=1 scripts/e2e-cluster.sh .build/debug/talos "$TALOS_TEST_POSTGRES_DSN"
  scripts/e2e-usage.sh .build/debug/talos "$TALOS_TEST_POSTGRES_DSN"
  scripts/e2e-grafana.sh .build/debug/talos "$TALOS_TEST_POSTGRES_DSN"
  scripts/e2e-edge.sh .build/debug/talos "$TALOS_TEST_POSTGRES_DSN"
  scripts/e2e-middleware.sh .build/debug/talos .build/debug/talos-example-service "$TALOS_TEST_POSTGRES_DSN"
  E2E_ADMIN_AUTH=1 scripts/e2e-middleware.sh .build/debug/talos .build/debug/talos-example-service \
    "$TALOS_TEST_POSTGRES_DSN"
  scripts/drills.sh .build/debug/talos "$TALOS_TEST_POSTGRES_DSN" "$pg_port"
else
  scripts/drills.sh .build/debug/talos
fi
scripts/fuzz.sh
