#!/usr/bin/env bash
# A PostgreSQL 15 server of the project's own, for migration tests and baselines: data in a
# folder of the project's (default data/postgres), listening on 127.0.0.1 only (default port
# 55432), logical decoding on (wal_level=logical), fsync on. Nothing outside that folder is
# touched: Debian's own cluster (pg_ctlcluster) is not used.
#
#   scripts/postgres.sh start  [DIR] [PORT]  initializes DIR if it is empty, starts the server
#   scripts/postgres.sh schema [DIR] [PORT]  creates temporal_visibility with Temporal's v12 table
#   scripts/postgres.sh stop   [DIR]         stops it (fast shutdown)
#   scripts/postgres.sh status [DIR]
#   scripts/postgres.sh url    [DIR] [PORT]  prints the connection string of temporal_visibility
#
# PostgreSQL refuses to run as root: as root, the server runs as Debian's `postgres` user, and
# DIR is made theirs. scripts/setup.sh installs postgresql-15.
set -euo pipefail
cd "$(dirname "$0")/.."

command=${1:-}
dir=${2:-data/postgres}
port=${3:-55432}
bin=/usr/lib/postgresql/15/bin
[ -x "$bin/pg_ctl" ] || { echo "postgres.sh: PostgreSQL 15 is not installed (scripts/setup.sh installs postgresql-15)" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  as_owner=(runuser -u postgres --)
fi

database=temporal_visibility
url="host=127.0.0.1 port=$port user=postgres dbname=$database"

case "$command" in
  start)
    if [ ! -f "$dir/PG_VERSION" ]; then
      if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$dir"
        # The server must reach its folder: every parent needs search permission for others.
        parent=$(dirname "$dir")
        while [ "$parent" != "/" ]; do chmod o+x "$parent" 2>/dev/null || true; parent=$(dirname "$parent"); done
      fi
      "${as_owner[@]}" "$bin/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C >/dev/null
      cat >>"$dir/postgresql.conf" <<EOF
# scripts/postgres.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
wal_level = logical
max_wal_senders = 16
max_replication_slots = 16
max_connections = 100
shared_buffers = 256MB
fsync = on
synchronous_commit = on
log_min_messages = warning
EOF
      # Replication connections from loopback (the migration's logical decoding).
      echo "host replication all 127.0.0.1/32 trust" >>"$dir/pg_hba.conf"
    fi
    if "${as_owner[@]}" "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      echo "postgres.sh: already running in $dir"
    else
      "${as_owner[@]}" "$bin/pg_ctl" -D "$dir" -o "-p $port" -l "$dir/server.log" -w -t 60 start >/dev/null
      echo "postgres.sh: running in $dir on 127.0.0.1:$port"
    fi
    ;;
  schema)
    psql "host=127.0.0.1 port=$port user=postgres dbname=postgres" -qtAX -v ON_ERROR_STOP=1 \
      -c "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1 \
      || psql "host=127.0.0.1 port=$port user=postgres dbname=postgres" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $database"
    psql "$url" -qX -v ON_ERROR_STOP=1 -f scripts/temporal/visibility-v12.sql >/dev/null
    echo "postgres.sh: $database has Temporal's executions_visibility (v12)"
    ;;
  stop)
    if "${as_owner[@]}" "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      "${as_owner[@]}" "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
      echo "postgres.sh: stopped"
    fi
    ;;
  status)
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir" status
    ;;
  url)
    echo "$url"
    ;;
  *)
    sed -n '2,13p' "$0" >&2
    exit 64
    ;;
esac
