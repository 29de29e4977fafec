#!/usr/bin/env bash
# Starts a local region, or a deployment of several regions: one `periscope node start` per
# node of a topology file, each on its own loopback address (so chaos runs can cut the links
# between addresses), then makes them one region (or one deployment of regions) with
# `periscope cluster init` and waits until every region is ready.
#
#   cluster/start.sh [cluster/region3.json]      (make cluster TOPOLOGY=...)
#   cluster/start.sh cluster/regions3x3.json     (3 regions of 3 nodes: A, B, C)
#
# Data and logs go under cluster/run/<topology name>/[<region>/]n<id>/ (data/, node.log, pid).
# Starting again after cluster/stop.sh restarts the same nodes from their data;
# cluster/stop.sh --wipe deletes it. PERISCOPE overrides the binary (default: the debug build);
# NODE_ARGS adds options to every `node start`.
set -euo pipefail
cd "$(dirname "$0")/.."
topology=${1:-cluster/region3.json}
name=$(basename "$topology" .json)
run=cluster/run/$name
bin=${PERISCOPE:-$(swift build --show-bin-path)/periscope}
[[ -x $bin ]] || { echo "cluster: $bin is not built; run make cluster (it builds first)" >&2; exit 1; }

# One line per node: region (empty for a single region), id, host, port.
mapfile -t nodes < <(python3 -c '
import json, sys
topology = json.load(open(sys.argv[1]))
regions = topology.get("regions") or [{"region": "", "nodes": topology["nodes"]}]
for region in regions:
    for node in region["nodes"]:
        print(region["region"] or "-", node["id"], node["host"], node["port"])' "$topology")

for line in "${nodes[@]}"; do
  read -r region id host port <<<"$line"
  dir=$run/n$id
  [[ $region != - ]] && dir=$run/$region/n$id
  mkdir -p "$dir"
  label="node $id"
  [[ $region != - ]] && label="region $region node $id"
  if [[ -f $dir/pid ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "cluster: $label is already running (pid $(cat "$dir/pid"))"
    continue
  fi
  region_flag=()
  [[ $region != - ]] && region_flag=(--region "$region")
  # shellcheck disable=SC2086
  nohup "$bin" node start --wait-for-init --node-id "$id" --host "$host" --port "$port" --data "$dir/data" \
    "${region_flag[@]}" ${NODE_ARGS:-} >>"$dir/node.log" 2>&1 &
  echo $! >"$dir/pid"
  echo "cluster: $label on $host:$port (pid $!, log $dir/node.log)"
done

first_dir=$(find "$run" -name data -type d | head -1)
if ! [[ -f $first_dir/cluster.json ]]; then
  "$bin" cluster init --topology "$topology" --wait 60
fi

# Ready: every region's first node sees a leader for every shard.
mapfile -t firsts < <(python3 -c '
import json, sys
topology = json.load(open(sys.argv[1]))
regions = topology.get("regions") or [{"region": "", "nodes": topology["nodes"]}]
for region in regions:
    node = region["nodes"][0]
    print("%s:%s" % (node["host"], node["port"]))' "$topology")

for attempt in $(seq 1 300); do
  ready=1
  for address in "${firsts[@]}"; do
    if ! status=$("$bin" cluster status --address "$address" --timeout 2 2>/dev/null) || grep -q 'without a leader' <<<"$status"; then
      ready=0
      break
    fi
  done
  if [[ $ready == 1 ]]; then
    "$bin" cluster status --address "${firsts[0]}"
    echo
    echo "cluster: $name is up. Try:"
    echo "  $bin write start --address ${firsts[0]} --namespace default --workflow-id order-1 --run-id r1 --type order"
    echo "  $bin query list --address ${firsts[-1]} --namespace default \"WorkflowType = 'order'\""
    if (( ${#firsts[@]} > 1 )); then
      echo "  $bin query list --address ${firsts[-1]} --namespace default --federated \"WorkflowType = 'order'\""
      echo "  $bin namespace failover --address ${firsts[0]} --namespace default --to-region B"
    fi
    echo "  $bin cluster status --address ${firsts[-1]}"
    echo "  cluster/stop.sh $topology        (cluster/stop.sh $topology --wipe deletes the data)"
    exit 0
  fi
  sleep 0.2
done
echo "cluster: $name did not become ready within 60 s; see $run/**/node.log" >&2
exit 1
