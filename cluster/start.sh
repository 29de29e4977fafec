#!/usr/bin/env bash
# Starts a local region: one `periscope node start` per node of a topology file, each on its
# own loopback address (so chaos runs can cut the links between addresses), then makes them
# one region with `periscope cluster init` and waits until every shard has a leader.
#
#   cluster/start.sh [cluster/region3.json]      (make cluster TOPOLOGY=...)
#
# Data and logs go under cluster/run/<topology name>/n<id>/ (data/, node.log, pid). Starting
# again after cluster/stop.sh restarts the same region from its data; cluster/stop.sh --wipe
# deletes it. PERISCOPE overrides the binary (default: the debug build).
set -euo pipefail
cd "$(dirname "$0")/.."
topology=${1:-cluster/region3.json}
name=$(basename "$topology" .json)
run=cluster/run/$name
bin=${PERISCOPE:-$(swift build --show-bin-path)/periscope}
[[ -x $bin ]] || { echo "cluster: $bin is not built; run make cluster (it builds first)" >&2; exit 1; }

mapfile -t nodes < <(python3 -c '
import json, sys
for node in json.load(open(sys.argv[1]))["nodes"]:
    print(node["id"], node["host"], node["port"])' "$topology")

for line in "${nodes[@]}"; do
  read -r id host port <<<"$line"
  dir=$run/n$id
  mkdir -p "$dir"
  if [[ -f $dir/pid ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "cluster: node $id is already running (pid $(cat "$dir/pid"))"
    continue
  fi
  nohup "$bin" node start --wait-for-init --node-id "$id" --host "$host" --port "$port" --data "$dir/data" \
    >>"$dir/node.log" 2>&1 &
  echo $! >"$dir/pid"
  echo "cluster: node $id on $host:$port (pid $!, log $dir/node.log)"
done

first=${nodes[0]}
read -r _ host port <<<"$first"
if ! [[ -f $run/n${first%% *}/data/cluster.json ]]; then
  "$bin" cluster init --topology "$topology" --wait 60
fi

for attempt in $(seq 1 150); do
  if status=$("$bin" cluster status --address "$host:$port" --timeout 2 2>/dev/null) && ! grep -q 'without a leader' <<<"$status"; then
    echo "$status"
    echo
    echo "cluster: region $name is up. Try:"
    echo "  $bin write start --address $host:$port --namespace default --workflow-id order-1 --run-id r1 --type order"
    read -r _ other_host other_port <<<"${nodes[1]:-$first}"
    echo "  $bin query list --address $other_host:$other_port --namespace default \"WorkflowType = 'order'\""
    echo "  $bin cluster status --address $other_host:$other_port"
    echo "  cluster/stop.sh $topology        (cluster/stop.sh $topology --wipe deletes the data)"
    exit 0
  fi
  sleep 0.2
done
echo "cluster: the region did not become ready within 30 s; see $run/n*/node.log" >&2
exit 1
