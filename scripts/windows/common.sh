# Sourced by scripts/test-windows.sh and scripts/check-targets.sh: the mingw toolchain and the
# libnode stand-in napi-build needs for x86_64-pc-windows-gnu.

SR_ROOT=${SR_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SR_WINDOWS_WORK=$SR_ROOT/target/windows

# apt-get install the Debian packages not yet installed (CI machines start bare).
apt_install() {
  local need=() pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "▶ apt-get install ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

rust_target() {
  rustup target list --installed | grep -qx "$1" || rustup target add "$1"
}

# napi-build (windows-gnu) panics unless a libnode.dll is on LIBNODE_PATH; the addon resolves
# Node's functions when it loads (napi's dyn-symbols), so empty stand-ins are never used.
libnode_stub() {
  local dir=$SR_WINDOWS_WORK/libnode
  if [ ! -f "$dir/libnode.a" ]; then
    mkdir -p "$dir"
    : >"$dir/libnode.dll"
    x86_64-w64-mingw32-ar rcs "$dir/libnode.a"
  fi
  export LIBNODE_PATH=$dir
}
