#!/usr/bin/env bash
# Big-endian check of lute-layout: its unit and integration tests (golden byte vectors for every
# wire type, header, record, frame and snapshot; evolution; proptest round trips) are
# cross-compiled for s390x-unknown-linux-gnu (big-endian) and run under qemu-user.
#
# Installs what it needs (rustup target; Debian's qemu-user and gcc-s390x-linux-gnu). If
# anything cannot be installed it prints a loud SKIPPED banner saying what was not checked and
# exits 0 (this step only). If the tests run and fail, it fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
TARGET=s390x-unknown-linux-gnu

skip() {
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!!! SKIPPED: lute-layout big-endian tests (s390x under qemu-user)."
  echo "!!! Reason: $1"
  echo "!!! NOT checked in this run: that lute-layout's golden byte vectors, header,"
  echo "!!! CRC-32C and schema fingerprints are identical on a big-endian host."
  echo "!!! They were checked on the little-endian host only."
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  exit 0
}

# Root, or password-less sudo, for apt-get.
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    SUDO="sudo -n"
  else
    SUDO="none"
  fi
fi

find_qemu() { command -v qemu-s390x || command -v qemu-s390x-static || true; }

pkgs=()
command -v s390x-linux-gnu-gcc >/dev/null 2>&1 || pkgs+=(gcc-s390x-linux-gnu libc6-dev-s390x-cross)
[ -n "$(find_qemu)" ] || pkgs+=(qemu-user)
if [ ${#pkgs[@]} -gt 0 ]; then
  [ "$SUDO" = none ] && skip "not root and no password-less sudo to install: ${pkgs[*]}"
  command -v apt-get >/dev/null 2>&1 || skip "no apt-get to install: ${pkgs[*]}"
  echo "installing ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}"; } \
      >/tmp/layout-bigendian-apt.log 2>&1; then
    tail -n 20 /tmp/layout-bigendian-apt.log || true
    skip "apt-get install ${pkgs[*]} failed (log above)"
  fi
fi
QEMU=$(find_qemu)
[ -n "$QEMU" ] || skip "qemu-s390x not found after installing qemu-user"
command -v s390x-linux-gnu-gcc >/dev/null 2>&1 || skip "s390x-linux-gnu-gcc not found"

if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  rustup target add "$TARGET" >/tmp/layout-bigendian-rustup.log 2>&1 \
    || { tail -n 20 /tmp/layout-bigendian-rustup.log || true; skip "rustup target add $TARGET failed"; }
fi

# The target really is big-endian (so a pass means something).
rustc --print cfg --target "$TARGET" | grep -qx 'target_endian="big"' \
  || skip "rustc does not report $TARGET as big-endian"

SYSROOT=/usr/s390x-linux-gnu
export CARGO_TARGET_S390X_UNKNOWN_LINUX_GNU_LINKER=s390x-linux-gnu-gcc
export CARGO_TARGET_S390X_UNKNOWN_LINUX_GNU_RUNNER="$QEMU -L $SYSROOT"
export CARGO_TARGET_DIR=target/s390x
echo "setup in $(( $(date +%s) - start ))s; running lute-layout tests on $TARGET under $QEMU"
# --lib --tests: unit and integration tests (doctests are not cross-run; they run natively).
cargo test -p lute-layout --target "$TARGET" --lib --tests -- --test-threads=2
echo "lute-layout big-endian tests passed in $(( $(date +%s) - start ))s"
