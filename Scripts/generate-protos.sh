#!/usr/bin/env bash
# Regenerates Sources/Remote/Protocol/Generated from Protos/prompb with Debian's protoc and
# swift-protobuf's plugin, built once in a scratch directory (the plugin stays out of the
# package's build). The generated files are committed; run this only when the protos change.
#   Scripts/generate-protos.sh [SCRATCH_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=${1:-${TMPDIR:-/tmp}/sextant-protoc-gen-swift}
version=1.39.0   # the swift-protobuf version Package.swift depends on
command -v protoc >/dev/null || sudo_apt=1
if [[ ${sudo_apt:-0} == 1 ]]; then apt-get install -y protobuf-compiler; fi
if [[ ! -x $scratch/.build/release/protoc-gen-swift ]]; then
  rm -rf "$scratch"
  git clone -q --branch "$version" https://github.com/apple/swift-protobuf "$scratch"
  (cd "$scratch" && swift build --product protoc-gen-swift -c release)
fi
cd "$root/Protos/prompb"
protoc --plugin=protoc-gen-swift="$scratch/.build/release/protoc-gen-swift" \
  --swift_opt=Visibility=Public \
  --swift_out="$root/Sources/Remote/Protocol/Generated" types.proto remote.proto
echo "generated into Sources/Remote/Protocol/Generated"
