#!/usr/bin/env bash
# etcd's durable Raft writes, the baseline of scripts/bench-raft.sh: a 3-member etcd cluster
# on loopback (127.0.0.1-3, each member with its own data directory on this disk, fsync on),
# loaded by h2load with gRPC KV.Put calls of a 128-byte value at 1, 16 and 256 concurrent
# calls. A call returns when its entry is committed and applied, as a Periscope proposal does.
# The count of committed puts comes from etcd itself (the revision), not from the client, and
# fsyncs per entry from each member's etcd_disk_wal_fsync_duration_seconds_count.
#   scripts/bench-etcd.sh [PROPOSERS] [SECONDS]        e.g. scripts/bench-etcd.sh 1,16,256 4
# Prints one line per concurrency:  etcd <proposers> <committed/s> <fsyncs/entry>
set -euo pipefail
cd "$(dirname "$0")/.."

proposers=${1:-1,16,256}
seconds=${2:-5}
payload_bytes=128
. scripts/etcd-cluster.sh

for tool in h2load curl; do
  command -v "$tool" >/dev/null || { echo "bench-etcd: $tool missing (apt-get install nghttp2-client curl)" >&2; exit 1; }
done

work=$(mktemp -d)
cleanup() { for pid in "${etcd_pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
etcd_cluster_start "$work"

# Load the leader directly: a follower would forward each call, adding a hop Periscope's
# benchmark does not have.
leader=$(etcd_leader) || { echo "bench-etcd: no leader found" >&2; exit 1; }
leader_url=$(etcd_client_url "$leader")

# One gRPC message: etcdserverpb.PutRequest{key = 1, value = 2}, length-prefixed.
key="periscope-bench"
python3 - "$work/put-request" "$key" "$payload_bytes" <<'EOF'
import struct, sys
path, key, size = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
def varint(n):
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out
message = b"\x0a" + varint(len(key)) + key + b"\x12" + varint(size) + b"a" * size
open(path, "wb").write(b"\x00" + struct.pack(">I", len(message)) + message)
EOF

revision() { etcdctl --endpoints "$leader_url" get "$key" -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])'; }
wal_fsyncs() {
  local total=0 member count
  for member in 1 2 3; do
    count=$(curl -s "$(etcd_client_url "$member")/metrics" | awk '/^etcd_disk_wal_fsync_duration_seconds_count/ { print $2 }')
    total=$((total + ${count%.*}))
  done
  echo "$total"
}
load() {  # concurrent calls, seconds
  local calls=$1 connections=$1 streams=1
  if ((calls > 16)); then connections=16; streams=$((calls / 16)); fi
  h2load -c "$connections" -m "$streams" -D "$2" -d "$work/put-request" \
    -H 'content-type: application/grpc' -H 'te: trailers' "$leader_url/etcdserverpb.KV/Put"
}

load 16 1 >/dev/null   # warm up
IFS=, read -ra counts <<< "$proposers"
for calls in "${counts[@]}"; do
  revision_before=$(revision); fsyncs_before=$(wal_fsyncs)
  load "$calls" "$seconds" > "$work/h2load.out"
  revision_after=$(revision); fsyncs_after=$(wal_fsyncs)
  # The revision counts the puts etcd committed; it must cover what h2load saw succeed
  # (a gRPC error is still an HTTP 200 to h2load).
  committed=$((revision_after - revision_before))
  succeeded=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$work/h2load.out")
  rate=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$work/h2load.out")
  if [ -z "$succeeded" ] || [ "$succeeded" -eq 0 ] || [ "$committed" -lt "$succeeded" ]; then
    echo "bench-etcd: h2load saw ${succeeded:-no} calls succeed, the revision moved by $committed" >&2
    cat "$work/h2load.out" >&2; exit 1
  fi
  awk -v n="$calls" -v r="$rate" -v c="$committed" -v f="$((fsyncs_after - fsyncs_before))" \
    'BEGIN { printf "etcd %d %.0f %.3f\n", n, r, f / c }'
done
