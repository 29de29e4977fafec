#!/usr/bin/env bash
# A single node (release build) on a fresh data directory, loaded through the client
# library by `periscope bench`: acknowledged writes/s and write p50/p99 at 1, 16 and 128
# concurrent writers (every write fsync'd before its answer), visibility lag (acknowledged
# → listed) and a query mix. Results go to docs/benchmarks.md by hand, with the conditions
# printed here.
#   scripts/bench-node.sh                      (make bench-node)
#   WRITERS=1,16,128 SECONDS_PER_STEP=10 SHARDS=4 scripts/bench-node.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product periscope >/dev/null
periscope="$(swift build -c release --show-bin-path)/periscope"
work=$(mktemp -d)
trap 'kill $node 2>/dev/null || true; wait $node 2>/dev/null || true; rm -rf "$work"' EXIT
echo "bench-node: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, periscope $("$periscope" version), rocksdb $(pkg-config --modversion rocksdb), data on $(df --output=source "$work" | tail -1), ${SHARDS:-4} shards"
"$periscope" node start --data "$work/data" --port 0 --shards "${SHARDS:-4}" --log-level warning > "$work/node.out" &
node=$!
for _ in $(seq 100); do grep -q "listening on" "$work/node.out" 2>/dev/null && break; sleep 0.1; done
address=$(sed -n 's|.*listening on http://\([0-9.:]*\) .*|\1|p' "$work/node.out" | head -1)
"$periscope" bench --address "$address" --writers "${WRITERS:-1,16,128}" --seconds "${SECONDS_PER_STEP:-10}"
curl -s --http2-prior-knowledge "http://$address/metrics" | grep -E '^periscope_raft_log_(fsyncs|entries_written) ' || true
kill -TERM $node; wait $node
