#!/usr/bin/env bash
# Installs what Periscope needs to build and test, and only what is missing.
# Idempotent: on a machine that already has everything it prints one line and exits.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the build links against or the tests drive.
packages=(
  pkg-config
  librocksdb-dev   # the per-shard LSM, through its C API (PeriscopeStorage)
  libnghttp2-dev   # HTTP/2 framing for the RPC layer
  curl             # interop tests: JSON calls over h2c
  nghttp2-client   # interop tests and the HTTP/2 benchmark: nghttp, h2load
  nghttp2-server   # the HTTP/2 benchmark's baseline: nghttpd
  python3
  python3-venv     # the Python grpcio client of the interop tests
  nftables         # region tests cut links between node addresses in the kernel (nft)
  util-linux       # setpriv (a node run as an unprivileged user), mount and fallocate (disk-full tests)
  iproute2         # tc: the chaos harness's bandwidth nemesis (htb on lo)
  libpq-dev        # PostgreSQL's C client (PeriscopePostgres): the migration's source and change capture
  postgresql-15    # the migration tests' real source (scripts/postgres.sh runs a server of the project's own)
  postgresql-contrib # btree_gin, which Temporal's visibility schema creates
)
# `setup.sh bench` adds what only the benchmarks run side by side.
if [ "${1:-}" = "bench" ]; then
  packages+=(
    etcd-server    # the Raft benchmark's baseline (scripts/bench-etcd.sh)
    etcd-client    # etcdctl: its health, leader and revision
  )
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    as_root=(sudo)
  fi
  echo "setup: installing ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Python gRPC client (grpcio, generated from our .proto files at test time), pinned.
venv=.venv
requirements=Tests/Interop/requirements.txt
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/requirements.installed"; then
  echo "setup: creating $venv (Python grpcio for the interop tests)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/requirements.installed"
fi

command -v swift >/dev/null || { echo "setup: the Swift toolchain (6.x) is not on PATH; install it from swift.org" >&2; exit 1; }
echo "setup: ready (rocksdb $(pkg-config --modversion rocksdb), nghttp2 $(pkg-config --modversion libnghttp2), libpq $(pkg-config --modversion libpq), $(swift --version 2>/dev/null | head -n1))"
