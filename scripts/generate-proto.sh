#!/usr/bin/env bash
# Regenerates Sources/PeriscopeAPI/Generated from the .proto files (`make proto`).
# The generated Swift is committed; CI never runs this. Needs Debian's protobuf-compiler and
# builds protoc-gen-swift from the swift-protobuf version Package.swift resolves, so the
# generator always matches the runtime library.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v protoc >/dev/null; then
  echo "proto: installing protobuf-compiler"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends protobuf-compiler >/dev/null
fi

swift package resolve >/dev/null
checkout=.build/checkouts/swift-protobuf
swift build --package-path "$checkout" --scratch-path .build-protoc-gen-swift --product protoc-gen-swift >/dev/null
plugin=.build-protoc-gen-swift/debug/protoc-gen-swift

protos=Sources/PeriscopeAPI/proto
out=Sources/PeriscopeAPI/Generated
rm -f "$out"/*.pb.swift
mapfile -t files < <(cd "$protos" && find . -name '*.proto' | sed 's|^\./||' | sort)
protoc --plugin=protoc-gen-swift="$plugin" \
  -I "$protos" -I "$checkout/Protos/Sources/SwiftProtobuf" \
  --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
  --swift_out="$out" "${files[@]}"
echo "proto: generated $(ls "$out" | wc -l) files from ${#files[@]} .proto files with $(protoc --version)"
