#!/usr/bin/env bash
# Miri over lute-sync's unit tests. Tries to install nightly Miri; if it cannot, it says so
# loudly and skips this step only (it never pretends to pass).
set -euo pipefail
if ! rustup +nightly component add miri rust-src >/dev/null 2>&1 \
   || ! cargo +nightly miri --version >/dev/null 2>&1; then
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!!! SKIPPED: Miri is not installable here (rustup +nightly component add miri"
  echo "!!! failed). lute-sync's unsafe code was NOT checked by Miri in this run."
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  exit 0
fi
cargo +nightly miri setup >/dev/null
MIRIFLAGS="${MIRIFLAGS:--Zmiri-many-seeds=0..4}" CARGO_TARGET_DIR=target/miri \
  cargo +nightly miri test -p lute-sync --lib
