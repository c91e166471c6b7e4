#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 600), one after another, and prints the
# executions of each. Usage: fuzz/run.sh [SECONDS] [TARGET...]
#
# Works on a stable toolchain: `--sanitizer none` (AddressSanitizer needs nightly's
# -Zsanitizer; `RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET` unlocks it on stable and was
# smoke-tested, but the dependencies' C code is not instrumented either way). sitrep's own
# code is `#![forbid(unsafe_code)]`, so what the fuzzers look for is panics (including
# overflow checks and debug assertions, which cargo fuzz turns on), hangs (-timeout) and
# runaway memory (-rss_limit_mb).
#
# New inputs go to fuzz/corpus/<target>/ (not committed); fuzz/seeds/<target>/ are the
# committed starting points. A crash is saved in fuzz/artifacts/<target>/: turn it into a
# regression test beside the code it broke, then fix the code.
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
secs="${1:-600}"
shift || true
if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list); fi
mkdir -p logs
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "seeds/$t"
  echo "== $t: ${secs} s"
  if cargo fuzz run -s none "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
      ${FUZZ_ARGS:-} >"logs/$t.log" 2>&1; then
    result=ok
  else
    result="FAILED (see fuzz/logs/$t.log and fuzz/artifacts/$t/)"
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' || echo '?')
  echo "$t: $result, $runs executions in ${secs} s"
done
exit "$status"
