#!/usr/bin/env bash
# Durable Raft commits: a 3-member group with real RocksDB log stores (fsync on), at 1, 16
# and 256 concurrent proposers, next to one put+fsync per entry on the same disk.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product periscope
"$(swift build -c release --show-bin-path)/periscope" raft bench --proposers 1,16,256 --seconds "${SECONDS_PER_RUN:-5}"
