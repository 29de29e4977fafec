#!/usr/bin/env bash
# A long fuzzing run of the query compiler: random bytes and mutated corpus queries, each
# compiled as a list and a count, planned, printed and recompiled. Never a crash, never a
# hang, always a verdict.   Usage: scripts/fuzz-query.sh [CASES] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-1000000}"
seed="${2:-$(date +%s)}"
echo "fuzzing the query compiler: $cases cases per generator, seed $seed"
swift build --build-tests
PERISCOPE_FUZZ_CASES="$cases" PERISCOPE_FUZZ_SEED="$seed" swift test --skip-build --filter 'PeriscopeQueryTests.FuzzTests'
