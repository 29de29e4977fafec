#!/usr/bin/env bash
# Installs what Periscope needs to build and test, and only what is missing.
# Idempotent: on a machine that already has everything it prints one line and exits.
set -euo pipefail

# Debian packages the build links against or the tests drive.
packages=(
  pkg-config
  librocksdb-dev   # the per-shard LSM, through its C API (PeriscopeStorage)
  libnghttp2-dev   # HTTP/2 framing for the RPC layer
)

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

command -v swift >/dev/null || { echo "setup: the Swift toolchain (6.x) is not on PATH; install it from swift.org" >&2; exit 1; }
echo "setup: ready (rocksdb $(pkg-config --modversion rocksdb), nghttp2 $(pkg-config --modversion libnghttp2), $(swift --version 2>/dev/null | head -n1))"
