#!/usr/bin/env bash
# The test command: installs what the tests need (tests/setup.sh; each step skipped when
# already done), then runs the whole suite, the browser test included, in release mode.
# Extra arguments go to `cargo test` (e.g. ./test.sh --test it).
set -euo pipefail
cd "$(dirname "$0")"
bash tests/setup.sh
exec cargo test --release --locked "$@"
