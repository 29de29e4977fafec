#!/usr/bin/env bash
# Stops a local region or deployment started by cluster/start.sh: SIGTERM to every node
# (each drains and exits 0), SIGKILL after 30 s. With --wipe, deletes its data and logs too.
#
#   cluster/stop.sh [cluster/region3.json] [--wipe]      (make cluster-stop)
set -euo pipefail
cd "$(dirname "$0")/.."
topology=cluster/region3.json
wipe=false
for arg in "$@"; do
  case $arg in
    --wipe) wipe=true ;;
    *) topology=$arg ;;
  esac
done
run=cluster/run/$(basename "$topology" .json)
pids=()
shopt -s nullglob
for file in "$run"/n*/pid "$run"/*/n*/pid; do
  [[ -f $file ]] || continue
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    pids+=("$pid")
  fi
  rm -f "$file"
done
for _ in $(seq 1 150); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [[ $alive == 0 ]] && break
  sleep 0.2
done
for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && { echo "cluster: pid $pid ignored SIGTERM; killing it"; kill -KILL "$pid"; }; done
echo "cluster: stopped ${#pids[@]} nodes of $run"
if $wipe; then
  rm -rf "$run"
  echo "cluster: deleted $run"
fi
