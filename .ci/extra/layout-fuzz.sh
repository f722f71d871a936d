#!/usr/bin/env bash
# Fuzz smoke of lute-layout's decoders: each cargo-fuzz target (frame_decode, schema_resolve)
# runs for LAYOUT_FUZZ_SECONDS (default 20) from the committed seeds. A crash fails CI.
# The documented bounded run (60 s per target, figures in the crate's fuzz/README.md) is longer;
# this only catches regressions cheaply.
#
# Needs nightly and cargo-fuzz; installs cargo-fuzz if missing. If either cannot be had it
# prints a loud SKIPPED banner and exits 0 (this step only).
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
SECS=${LAYOUT_FUZZ_SECONDS:-20}

skip() {
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!!! SKIPPED: lute-layout fuzz smoke (cargo-fuzz, ${SECS} s per target)."
  echo "!!! Reason: $1"
  echo "!!! NOT checked in this run: that frame decoding and schema resolution survive"
  echo "!!! arbitrary input. (The proptest cases in the normal test suite still ran.)"
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  exit 0
}

cargo +nightly --version >/dev/null 2>&1 || skip "no nightly toolchain (cargo +nightly)"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install --locked cargo-fuzz >/tmp/layout-fuzz-install.log 2>&1 \
    || { tail -n 20 /tmp/layout-fuzz-install.log || true; skip "cargo install cargo-fuzz failed"; }
fi

cd crates/lute-layout
for t in frame_decode schema_resolve; do
  corpus=$(mktemp -d)
  echo "--- fuzz $t for ${SECS}s ---"
  # Build failures are real failures (the targets are part of the crate), not skips.
  log=$(mktemp)
  status=0
  cargo +nightly fuzz run "$t" "$corpus" "fuzz/seeds/$t" -- \
    -max_total_time="$SECS" -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec)|^==|^SUMMARY|panicked' "$log" || true
  [ "$status" -eq 0 ] || tail -n 60 "$log"
  rm -f "$log"
  rm -rf "$corpus"
  [ "$status" -eq 0 ] || { echo "fuzz target $t FAILED (artifacts in crates/lute-layout/fuzz/artifacts/$t)"; exit 1; }
done
echo "lute-layout fuzz smoke passed in $(( $(date +%s) - start ))s"
