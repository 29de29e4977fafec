# Sourced by the benchmarks that run etcd beside Periscope: a 3-member etcd cluster on
# loopback (127.0.0.1-3, each member with its own data directory on this disk, fsync on).
#   etcd_cluster_start WORK_DIR     starts it, waits until healthy; sets etcd_pids (array),
#                                   etcd_endpoints (comma-separated client URLs)
#   etcd_leader                     prints the member number (1-3) that leads now
#   etcd_client_url N, etcd_peer_url N
# ETCD_BASE_PORT moves the ports (default 23790: clients on +N, peers on +10+N).

etcd_base_port=${ETCD_BASE_PORT:-23790}
etcd_pids=()

etcd_client_url() { echo "http://127.0.0.$1:$((etcd_base_port + $1))"; }
etcd_peer_url() { echo "http://127.0.0.$1:$((etcd_base_port + 10 + $1))"; }

etcd_cluster_start() {
  local work=$1 member cluster
  for tool in etcd etcdctl; do
    command -v "$tool" >/dev/null || { echo "etcd-cluster: $tool missing (apt-get install etcd-server etcd-client)" >&2; return 1; }
  done
  cluster="m1=$(etcd_peer_url 1),m2=$(etcd_peer_url 2),m3=$(etcd_peer_url 3)"
  for member in 1 2 3; do
    etcd --name "m$member" --data-dir "$work/m$member" \
      --listen-client-urls "$(etcd_client_url "$member")" --advertise-client-urls "$(etcd_client_url "$member")" \
      --listen-peer-urls "$(etcd_peer_url "$member")" --initial-advertise-peer-urls "$(etcd_peer_url "$member")" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token periscope-bench \
      --log-level error > "$work/m$member.log" 2>&1 &
    etcd_pids+=($!)
  done
  etcd_endpoints="$(etcd_client_url 1),$(etcd_client_url 2),$(etcd_client_url 3)"
  for _ in $(seq 1 100); do
    etcdctl --endpoints "$etcd_endpoints" endpoint health >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "etcd-cluster: the cluster did not become healthy" >&2
  cat "$work"/m*.log >&2
  return 1
}

# The member leading now, asked of each member in turn (a dead one is skipped).
etcd_leader() {
  local member
  for member in 1 2 3; do
    if etcdctl --endpoints "$(etcd_client_url "$member")" --command-timeout=1s endpoint status -w json 2>/dev/null |
        python3 -c 'import json,sys; s = json.load(sys.stdin)[0]["Status"]; sys.exit(s["leader"] != s["header"]["member_id"])' 2>/dev/null; then
      echo "$member"
      return 0
    fi
  done
  return 1
}
