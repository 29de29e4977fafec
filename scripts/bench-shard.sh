#!/usr/bin/env bash
# One shard with synthetic executions (1,000,000 by default): ingest rate with the indexer
# running alongside, index lag under that ingest, and p50/p99 of a fixed query mix.
# Results go to docs/benchmarks.md by hand, with the conditions this script prints.
#   scripts/bench-shard.sh                 (make bench-shard)
#   EXECUTIONS=200000 RUNS=20 RATE=12000 scripts/bench-shard.sh
# Two runs: ingest as fast as apply goes (the indexer falls behind; its throughput is the
# result), then ingest held at RATE entries/s (the lag below the indexer's capacity).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product periscope >/dev/null
periscope="$(swift build -c release --show-bin-path)/periscope"
echo "bench-shard: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, periscope $("$periscope" version), rocksdb $(pkg-config --modversion rocksdb)"
"$periscope" shard bench --executions "${EXECUTIONS:-1000000}" --runs "${RUNS:-50}"
echo
"$periscope" shard bench --executions "${EXECUTIONS:-1000000}" --runs 5 --batch 100 --rate "${RATE:-12000}"
