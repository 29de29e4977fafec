#!/usr/bin/env bash
# A long run of the seeded Raft cluster simulator, built optimized. Every seed draws its own
# fault mix; a violation prints the seed that replays it.   Usage: scripts/sim.sh [SEEDS] [FIRST]
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${1:-10000}"
first="${2:-1}"
swift build -c release --product periscope
"$(swift build -c release --show-bin-path)/periscope" raft simulate --seeds "$seeds" --first-seed "$first" --jobs 2
