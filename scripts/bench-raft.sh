#!/usr/bin/env bash
# Durable Raft commits: a 3-member group with real RocksDB log stores (fsync on), at 1, 16
# and 256 concurrent proposers, next to one put+fsync per entry on the same disk, then a
# 3-member etcd cluster under the same concurrencies (scripts/bench-etcd.sh), and the ratio.
#   scripts/bench-raft.sh                      (make bench-raft)
#   SECONDS_PER_RUN=10 PROPOSERS=1,16,256 scripts/bench-raft.sh
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${SECONDS_PER_RUN:-5}
proposers=${PROPOSERS:-1,16,256}

swift build -c release --product periscope >/dev/null
periscope="$(swift build -c release --show-bin-path)/periscope"

echo "bench-raft: $(nproc) cores, $seconds s per run, periscope $("$periscope" version), $(etcd --version 2>/dev/null | head -1 || echo 'etcd missing')"
periscope_out=$(mktemp); etcd_out=$(mktemp)
trap 'rm -f "$periscope_out" "$etcd_out"' EXIT

"$periscope" raft bench --proposers "$proposers" --seconds "$seconds" | tee "$periscope_out"
echo
echo "etcd, 3 members on loopback, gRPC KV.Put of 128 bytes to the leader (h2load):"
./scripts/bench-etcd.sh "$proposers" "$seconds" | tee "$etcd_out"
echo
echo "proposers  periscope committed/s  etcd committed/s  ratio  fsyncs/entry periscope  etcd"
# periscope rows: "<proposers> <committed/s> <fsyncs/entry> <x baseline>"; etcd rows: "etcd <proposers> <committed/s> <fsyncs/entry>".
awk 'NR == FNR { if ($1 ~ /^[0-9]+$/) { rate[$1] = $2; fsyncs[$1] = $3 }; next }
     $1 == "etcd" && ($2 in rate) {
       printf "%9d  %21.0f  %16.0f  %5.2fx  %22.3f  %5.3f\n", $2, rate[$2], $3, rate[$2] / $3, fsyncs[$2], $4
     }' "$periscope_out" "$etcd_out"
