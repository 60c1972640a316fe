#!/usr/bin/env bash
# Cross-target compile checks that run on Linux (.ci/run): the workspace and the core's tests
# must build for Windows (msvc and gnu) and macOS (x64 and arm64), warning-free.
#
# Windows-gnu gets the full build, SQLite included (mingw-w64 compiles it). macOS and msvc
# have no C toolchain/SDK on Linux, so they are checked with --no-default-features, which turns
# off only the `bundled-sqlite` feature (the C part); all our Rust is checked. The release
# workflow builds those targets for real on macOS and Windows runners.
set -euo pipefail
source "$(dirname "$0")/windows/common.sh"
cd "$SR_ROOT"

apt_install gcc-mingw-w64-x86-64
libnode_stub

check() {
  local target=$1
  shift
  rust_target "$target"
  echo "▶ clippy (check) for $target $*"
  cargo clippy --quiet --workspace --target "$target" "$@" -- -D warnings
  cargo clippy --quiet -p session-resilience-core --all-targets --target "$target" "$@" -- -D warnings
}

check x86_64-pc-windows-gnu
check x86_64-pc-windows-msvc --no-default-features
check aarch64-apple-darwin --no-default-features
check x86_64-apple-darwin --no-default-features
echo "✔ cross-target checks passed"
