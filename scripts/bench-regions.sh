#!/usr/bin/env bash
# A deployment of 3 regions of 1 node each on this machine (release build, regions A, B, C on
# 127.0.{1,2,3}.2, every write fsync'd before its answer), loaded by `periscope bench` in the
# home region A at 1, 16 and 128 concurrent writers:
#   1. the home's writes/s and p50/p99 for a namespace held by A alone, for one held by A, B
#      and C while B and C are cut off (A keeps its outbox, no replica region runs: the home's
#      own cost), and for the same with B and C applying every write (on one machine their
#      work competes for the same cores);
#   2. cross-region replication lag: from the write's acknowledgement in A until it is listed
#      by an eventual query in B (shipping, B's Raft commit, B's indexer, one list round trip);
#   3. catch-up: C cut off (fault injection on every region's node), 100,000 writes at A, the
#      cut healed; time until C lists all of them.
#   scripts/bench-regions.sh                               (make bench-regions)
#   WRITERS=1,16,128 SECONDS_PER_STEP=10 CATCH_UP=100000 PORT=7480 scripts/bench-regions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_PER_STEP:-10}
writers=${WRITERS:-1,16,128}
catch_up=${CATCH_UP:-100000}
port=${PORT:-7480}

swift build -c release --product periscope >/dev/null
periscope="$(swift build -c release --show-bin-path)/periscope"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }
address() { echo "127.0.$1.2:$port"; }   # region A=1, B=2, C=3
regions=(A B C)

echo "bench-regions: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, data on $(df --output=source "$work" | tail -1)," \
  "periscope $("$periscope" version) (3 regions x 1 node, 4 shards each), $seconds s per step"

cat > "$work/topology.json" <<EOF
{"shards": 4, "regions": [
  {"region": "A", "nodes": [{"id": 1, "host": "127.0.1.2", "port": $port}]},
  {"region": "B", "nodes": [{"id": 1, "host": "127.0.2.2", "port": $port}]},
  {"region": "C", "nodes": [{"id": 1, "host": "127.0.3.2", "port": $port}]}]}
EOF
for index in 1 2 3; do
  name=${regions[$((index - 1))]}
  mkdir -p "$work/$name"
  "$periscope" node start --wait-for-init --node-id 1 --region "$name" --host "127.0.$index.2" --port "$port" \
    --data "$work/$name/data" --log-level warning --allow-fault-injection > "$work/$name/node.log" 2>&1 &
  pids+=($!)
done
"$periscope" cluster init --topology "$work/topology.json" --wait 30 >/dev/null
for index in 1 2 3; do
  for _ in $(seq 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --http2-prior-knowledge "http://$(address "$index")/readyz")" = 200 ] && break
    sleep 0.1
  done
done
"$periscope" namespace create alone --address "$(address 1)" --home-region A --regions A >/dev/null
"$periscope" namespace create replicated --address "$(address 1)" --home-region A --regions A,B,C >/dev/null
for index in 2 3; do   # the namespaces reach every region within the sync
  until "$periscope" namespace describe replicated --address "$(address "$index")" >/dev/null 2>&1; do sleep 0.1; done
done

inject() {  # region index, JSON list of regions it is cut off from
  curl -s --http2-prior-knowledge -H 'content-type: application/json' -d "{\"isolatedFromRegions\": $2}" \
    "http://$(address "$1")/periscope.v1.ClusterPeer/InjectPartition" >/dev/null
}
count_in() {  # region index, query
  "$periscope" query count --address "$(address "$1")" --namespace replicated --consistency eventual "$2" 2>/dev/null || echo 0
}

echo
echo "== held by A alone (no replication)"
"$periscope" bench --address "$(address 1)" --namespace alone --writers "$writers" --seconds "$seconds" --probes 20 --query-runs 0 \
  > "$work/alone.out"
sed '/^$/,$d' "$work/alone.out"   # the steps (no query mix: --query-runs 0)
echo
echo "== held by A, B and C, with B and C cut off (the home's own cost: outbox, no replica region running)"
inject 1 '["B", "C"]'; inject 2 '["A"]'; inject 3 '["A"]'
"$periscope" bench --address "$(address 1)" --namespace replicated --writers "$writers" --seconds "$seconds" --probes 20 --query-runs 0 \
  > "$work/home-only.out"
sed '/^$/,$d' "$work/home-only.out"
inject 1 '[]'; inject 2 '[]'; inject 3 '[]'
healed=$(now_ms)
until [ "$(count_in 2 "")" = "$(count_in 1 "")" ] && [ "$(count_in 3 "")" = "$(count_in 1 "")" ]; do
  (( $(now_ms) - healed < 600000 )) || { echo "B and C did not catch up within 600 s"; exit 1; }
  sleep 0.2
done
echo "B and C caught up $(($(now_ms) - healed)) ms after the cut healed"

echo
echo "== held by A, B and C (lag: acknowledged in A -> listed in B)"
"$periscope" bench --address "$(address 1)" --read-address "$(address 2)" --namespace replicated --writers "$writers" \
  --seconds "$seconds" --probes 20 --query-runs 0 > "$work/replicated.out"
sed '/^$/,$d' "$work/replicated.out"

echo
echo " writers  alone writes/s  B,C cut off writes/s  ratio  replicated writes/s   ratio   replicated p50/p99 ms   A->B lag p50/p99 ms"
awk 'FNR == 1 { file++ } $1 ~ /^[0-9]+$/ && NF >= 8 {
       if (file == 1) { rate[$1] = $2 } else if (file == 2) { home[$1] = $2 } else if ($1 in rate) {
         printf "%8d  %14.0f  %20.0f  %5.2fx  %19.0f  %5.2fx  %10.2f / %-10.2f  %8.1f / %.1f\n", $1, rate[$1], home[$1], home[$1] / rate[$1],
           $2, $2 / rate[$1], $3, $4, $6, $7
       }
     }' "$work/alone.out" "$work/home-only.out" "$work/replicated.out"

# Counts read through C: its own replicas, then federated (only the first home answers for a
# namespace never failed over). Wall time of the CLI command, process start included.
for scope in "" --federated; do
  started=$(now_ms)
  total=$("$periscope" query count --address "$(address 3)" --namespace replicated --consistency eventual $scope "")
  echo "count through C ${scope:-(local)}: $total executions in $(($(now_ms) - started)) ms"
done

# Catch-up after a cut: C refuses and drops A's and B's calls, and they C's.
python3 - "$catch_up" > "$work/catchup.jsonl" <<'EOF'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"started": {"namespace": "replicated", "execution": {
        "workflowId": "catchup-%d" % i, "runId": "r", "workflowType": "catchup", "taskQueue": "q",
        "status": "EXECUTION_STATUS_RUNNING", "startTime": "2026-12-01T00:00:00Z", "version": 1}}}))
EOF
inject 3 '["A", "B"]'; inject 1 '["C"]'; inject 2 '["C"]'
echo
started=$(now_ms)
"$periscope" write load "$work/catchup.jsonl" --address "$(address 1)" --batch 500 --concurrency 8 2>&1 | tail -1
echo "wrote $catch_up executions at A in $(($(now_ms) - started)) ms while C was cut off; C lists $(count_in 3 "WorkflowType = 'catchup'")"
inject 3 '[]'; inject 1 '[]'; inject 2 '[]'
healed=$(now_ms)
until [ "$(count_in 3 "WorkflowType = 'catchup'")" = "$catch_up" ]; do
  (( $(now_ms) - healed < 600000 )) || { echo "C did not catch up within 600 s: $(count_in 3 "WorkflowType = 'catchup'") listed"; exit 1; }
  sleep 0.2
done
caught=$(($(now_ms) - healed))
echo "catch-up: C listed all $catch_up executions $caught ms after the cut healed" \
  "($(awk -v n="$catch_up" -v ms="$caught" 'BEGIN { printf "%.0f", n / (ms / 1000) }') executions/s)"
"$periscope" cluster status --address "$(address 3)" | sed -n '/replication from region A/,/^$/p'
curl -s --http2-prior-knowledge "http://$(address 3)/metrics" | grep -E '^periscope_replication_backfills' || true
echo "RSS after the run (KiB): $(for pid in "${pids[@]}"; do ps -o rss= -p "$pid"; done | tr '\n' ' ')"
