#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of what an attacker can feed Talos: the JSON parser, Base58, credential
# parsing, the macaroon decoder, the list filter, addresses/CIDRs/durations. Fuzz/ is a package of its own, built with
# every module instrumented (fuzzer + address sanitizers); each target first replays its checked-in corpus and every
# regression input (Fuzz/Regressions/TARGET/*), then runs for FUZZ_SECONDS (default 20) from the corpus (JSON also
# from ../shared/testdata/JSONTestSuite). Prints executions per second and coverage per target. A crash fails the run
# and leaves the input under Fuzz/.build/artifacts/ (turn it into Fuzz/Regressions/TARGET/NAME).
#   scripts/fuzz.sh [TARGET…]
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
. ../scripts/lib.sh
seconds=${FUZZ_SECONDS:-20}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzJSON FuzzBase58 FuzzCredential FuzzMacaroon FuzzFilter FuzzAddress)
log=.build/fuzz-build.log
mkdir -p .build
# --sanitize=fuzzer links libFuzzer; the coverage it steers by must be asked for, in the form today's libFuzzer reads
# (inline 8-bit counters and a PC table; plain `edge` means trace-pc-guard, which it refuses).
flags=(--sanitize=fuzzer --sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp)
if ! swift build "${flags[@]}" >"$log" 2>&1; then
  grep -E "error:" "$log" | head -20; tail -5 "$log"; echo "fuzz: the fuzz targets did not build"; exit 1
fi
bin=$(swift build "${flags[@]}" --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p .build/artifacts
for target in "${targets[@]}"; do
  corpus="$work/$target"
  mkdir -p "$corpus"
  cp Corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  if [ "$target" = FuzzJSON ] && [ -d ../../shared/testdata/JSONTestSuite/test_parsing ]; then
    cp ../../shared/testdata/JSONTestSuite/test_parsing/* "$corpus"/
  fi
  regressions=(Regressions/"$target"/*)
  if [ -e "${regressions[0]}" ]; then
    check "$target: every regression input runs clean (${#regressions[@]})" \
      "$bin/$target" -runs=1 "${regressions[@]}" >"$work/$target.regressions" 2>&1
  fi
  options=(-max_total_time="$seconds" -print_final_stats=1 -timeout=5 -rss_limit_mb=2048 -max_len=8192
           -artifact_prefix=.build/artifacts/"$target"- -close_fd_mask=1)
  if "$bin/$target" "${options[@]}" "$corpus" >"$work/$target.log" 2>&1; then
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/$target.log" | tail -1)
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$work/$target.log")
    rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$work/$target.log")
    cov=$(sed -nE 's/.* cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/cov \1, features \2, corpus \3/p' <<<"$done_line")
    check "$target: no crash in ${seconds}s (${runs} runs, ${rate} exec/s, ${cov:-no coverage reported})" \
      test -n "$cov"
  else
    check "$target: no crash in ${seconds}s" false
    grep -E "ERROR|SUMMARY|Test unit written|precondition|Fatal error" "$work/$target.log" | head -8
  fi
done
echo "fuzz: $passed passed, $failed failed"
test "$failed" = 0
