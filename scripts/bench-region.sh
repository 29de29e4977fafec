#!/usr/bin/env bash
# A 3-node Periscope region on this machine (release build, each node on its own loopback
# address, every write fsync'd by a majority before its answer) beside a 3-member etcd
# cluster on the same disk, loaded by the same generator (`periscope bench`: one HTTP/2
# connection per node, gRPC) at 1, 16 and 128 concurrent writers: acknowledged writes/s,
# p50/p99, and the ratio. Periscope writes are RecordExecutionStarted calls routed by the
# client to each shard's leader; etcd writes are KV.Put calls to its leader with values as
# large as one Periscope write request. Also: visibility lag read through a follower
# (eventual reads are served by the replica of the node asked), and failover after kill -9
# of a leader, for both.
#   scripts/bench-region.sh                                  (make bench-region)
#   WRITERS=1,16,128 SECONDS_PER_STEP=10 SHARDS=4 PORT=7380 scripts/bench-region.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_PER_STEP:-10}
writers=${WRITERS:-1,16,128}
shards=${SHARDS:-4}
port=${PORT:-7380}
. scripts/etcd-cluster.sh

swift build -c release --product periscope >/dev/null
periscope="$(swift build -c release --show-bin-path)/periscope"
work=$(mktemp -d)
node_pids=()
cleanup() {
  for pid in "${node_pids[@]}" "${etcd_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }
address() { echo "127.0.0.$(($1 + 1)):$port"; }

echo "bench-region: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, data on $(df --output=source "$work" | tail -1)," \
  "periscope $("$periscope" version) (3 nodes, $shards shards, replication 3), $(etcd --version | head -1) (3 members)," \
  "$seconds s per step"

# The region.
members=()
for id in 1 2 3; do
  mkdir -p "$work/n$id"
  "$periscope" node start --wait-for-init --node-id "$id" --host "127.0.0.$((id + 1))" --port "$port" --data "$work/n$id/data" \
    --log-level warning > "$work/n$id/node.log" 2>&1 &
  node_pids+=($!)
  members+=(--member "$id=$(address "$id")")
done
"$periscope" cluster init "${members[@]}" --shards "$shards" --region bench --wait 30 >/dev/null
for id in 1 2 3; do
  for _ in $(seq 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --http2-prior-knowledge "http://$(address "$id")/readyz")" = 200 ] && break
    sleep 0.1
  done
done

echo
"$periscope" bench --address "$(address 1)" --read-address "$(address 2)" --writers "$writers" --seconds "$seconds" \
  --probes 20 --query-runs 10 | tee "$work/periscope.out"
echo
"$periscope" cluster status --address "$(address 1)" | head -6

# etcd beside it, loaded the same way.
mkdir -p "$work/etcd"
etcd_cluster_start "$work/etcd"
leader=$(etcd_leader)
echo
"$periscope" bench --etcd "127.0.0.$leader:$((etcd_base_port + leader))" --writers "$writers" --seconds "$seconds" | tee "$work/etcd.out"

echo
echo " writers  periscope writes/s  etcd writes/s   ratio   periscope p50/p99 ms   etcd p50/p99 ms"
awk 'FNR == 1 { file++ } $1 ~ /^[0-9]+$/ && NF >= 5 {
       if (file == 1) { rate[$1] = $2; p50[$1] = $3; p99[$1] = $4 } else if ($1 in rate) {
         printf "%8d  %18.0f  %13.0f  %5.2fx  %9.2f / %-9.2f  %7.2f / %.2f\n", $1, rate[$1], $2, rate[$1] / $2, p50[$1], p99[$1], $3, $4
       }
     }' "$work/periscope.out" "$work/etcd.out"

# Failover: kill -9 the node leading the most shards (of nodes 2 and 3: node 1 is the load's
# seed) under 16 writers; time until every shard is led by a live node, seen through node 1.
echo
"$periscope" bench --address "$(address 1)" --writers 16 --seconds 12 --probes 0 --query-runs 0 > "$work/failover.out" 2>&1 &
load=$!
sleep 4
shard_map() {
  curl -s --http2-prior-knowledge -H 'content-type: application/json' -d '{}' \
    "http://$(address 1)/periscope.v1.AdminService/GetShardMap"
}
victim=$(shard_map | python3 -c '
import json, sys
leaders = [s.get("leaderNodeId", "") for s in json.load(sys.stdin)["shards"]]
print(max(["2", "3"], key=leaders.count))')
led=$(shard_map | python3 -c "import json,sys; print(sum(s.get('leaderNodeId') == '$victim' for s in json.load(sys.stdin)['shards']))")
kill -9 "${node_pids[$((victim - 1))]}"; wait "${node_pids[$((victim - 1))]}" 2>/dev/null || true
killed=$(now_ms)
until shard_map | python3 -c "
import json, sys
shards = json.load(sys.stdin)['shards']
sys.exit(0 if all(s.get('leaderNodeId', '') not in ('', '$victim') for s in shards) else 1)" 2>/dev/null; do
  sleep 0.02
done
periscope_failover=$(($(now_ms) - killed))
wait "$load" || true
read -r stall failed < <(awk '$1 == 16 { print $5, $8 }' "$work/failover.out")
echo "periscope failover: node $victim (leading $led of $shards shards) killed with kill -9; every shard led again after" \
  "$periscope_failover ms; of 16 writers' writes meanwhile the slowest took ${stall:-?} ms, ${failed:-?} failed after the client's retries"

# etcd: kill -9 its leader; time until another member leads.
old=$(etcd_leader)
kill -9 "${etcd_pids[$((old - 1))]}"; wait "${etcd_pids[$((old - 1))]}" 2>/dev/null || true
killed=$(now_ms)
until new=$(etcd_leader) && [ "$new" != "$old" ]; do sleep 0.02; done
echo "etcd failover: leader m$old killed with kill -9; m$new leads after $(($(now_ms) - killed)) ms"
