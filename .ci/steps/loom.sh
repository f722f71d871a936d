#!/usr/bin/env bash
# loom models of every lock-free structure in lute-sync, plus the weakened variants that loom
# must catch (compiled with --cfg lute_weaken; see crates/lute-sync/tests/loom_*.rs).
set -euo pipefail
export LOOM_MAX_PREEMPTIONS=${LOOM_MAX_PREEMPTIONS:-2}
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
  cargo test -p lute-sync --release --tests -- --test-threads=2
RUSTFLAGS="--cfg loom --cfg lute_weaken" CARGO_TARGET_DIR=target/loom-weak \
  cargo test -p lute-sync --release --tests -- --test-threads=2
