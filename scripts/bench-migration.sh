#!/usr/bin/env bash
# The migration from Temporal's PostgreSQL visibility store, measured (release build):
#   1. backfill of ROWS rows (default 1,000,000) beside PostgreSQL's own COPY ... TO of the
#      same columns (the ratio);
#   2. validation of the copy (counts and checksums per bucket, both stores), its duration;
#   3. capture lag (commit at the source to applied in Periscope) p50/p99 under
#      `migrate source-writer` at each rate of RATES (default 1000,5000 statements/s).
# Results go to docs/benchmarks.md by hand, with the conditions printed here.
#   scripts/bench-migration.sh                         (make bench-migration)
#   ROWS=100000 RATES=1000 SECONDS_PER_RATE=20 scripts/bench-migration.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
rates=${RATES:-1000,5000}
seconds=${SECONDS_PER_RATE:-30}
swift build -c release --product periscope >/dev/null
periscope="$(swift build -c release --show-bin-path)/periscope"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
node=""
cleanup() {
  [ -n "$node" ] && { kill "$node" 2>/dev/null || true; wait "$node" 2>/dev/null || true; }
  scripts/postgres.sh stop "$work/pg" "$port" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
scripts/postgres.sh start "$work/pg" "$port" >/dev/null
scripts/postgres.sh schema "$work/pg" "$port" >/dev/null
source="host=127.0.0.1 port=$port user=postgres dbname=temporal_visibility"
echo "bench-migration: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, $(psql "$source" -qtAX -c 'SHOW server_version' | cut -d' ' -f1) PostgreSQL, periscope $("$periscope" version), data on $(df --output=source "$work" | tail -1)"

now() { date +%s.%N; }
seconds_since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$(now)"; }

start=$(now)
sed "s/:rows/$rows/g" scripts/temporal/seed-rows.sql | psql "$source" -qtAX -v ON_ERROR_STOP=1 >/dev/null
psql "$source" -qtAX -c "VACUUM ANALYZE executions_visibility" >/dev/null
echo "seeded $rows rows in $(seconds_since "$start") s; table $(psql "$source" -qtAX -c "SELECT pg_size_pretty(pg_total_relation_size('executions_visibility'))")"

# 1. PostgreSQL's own COPY of the columns the backfill reads, then the backfill.
columns="namespace_id, run_id, _version, start_time, execution_time, workflow_id, workflow_type_name, status, close_time, history_length, history_size_bytes, execution_duration, state_transition_count, memo, encoding, task_queue, search_attributes, parent_workflow_id, parent_run_id, root_workflow_id, root_run_id"
start=$(now)
psql "$source" -qtAX -c "COPY (SELECT $columns FROM executions_visibility) TO STDOUT" > /dev/null
copy_seconds=$(seconds_since "$start")

"$periscope" node start --data "$work/data" --port 0 --log-level warning > "$work/node.out" 2>&1 &
node=$!
for _ in $(seq 300); do grep -q "listening on" "$work/node.out" 2>/dev/null && break; sleep 0.1; done
address=$(sed -n 's|.*listening on http://\([0-9.:]*\) .*|\1|p' "$work/node.out" | head -1)
start=$(now)
"$periscope" migrate start --address "$address" --source "$source" --name bench --namespace orders=ns-a --namespace billing=ns-b \
  --workers "${WORKERS:-4}" 2>/dev/null | tail -1
backfill_seconds=$(seconds_since "$start")
python3 - "$rows" "$copy_seconds" "$backfill_seconds" <<'PY'
import sys
rows, copy, backfill = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"backfill: {rows} rows in {backfill:.1f} s = {rows / backfill:,.0f} rows/s; PostgreSQL COPY TO: {copy:.2f} s = "
      f"{rows / copy:,.0f} rows/s; backfill/COPY = {copy / backfill:.3f} (COPY is {backfill / copy:.1f}x faster)")
PY

# 2. Validation of the copy (no capture running: the stores as they are).
start=$(now)
"$periscope" migrate validate --address "$address" --source "$source" --name bench | head -1
echo "validation of $rows rows: $(seconds_since "$start") s"

# 3. Capture lag under a writer at each rate.
IFS=, read -ra rate_list <<< "$rates"
for rate in "${rate_list[@]}"; do
  "$periscope" migrate capture --address "$address" --source "$source" --name bench --until-caught-up >/dev/null 2>&1
  "$periscope" migrate capture --address "$address" --source "$source" --name bench --duration $((seconds + 5)) > "$work/capture-$rate.out" 2>/dev/null &
  capture=$!
  sleep 1
  "$periscope" migrate source-writer --source "$source" --rate "$rate" --duration "$seconds" --workers "${WRITER_WORKERS:-8}" \
    --namespace-ids ns-a,ns-b --seed "$rate" | tail -1
  wait $capture
  echo "at $rate statements/s: $(grep 'capture lag' "$work/capture-$rate.out")"
done
start=$(now)
"$periscope" migrate validate --address "$address" --source "$source" --name bench | head -1
echo "validation after the writers: $(seconds_since "$start") s"
