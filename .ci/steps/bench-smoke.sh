#!/usr/bin/env bash
# Benchmarks must build and run; their numbers are not judged here (no timing thresholds).
set -euo pipefail
cargo build --profile bench-release -p lute-bench --bins
for b in target/bench-release/channels; do
  [ -x "$b" ] && "$b" --quick | tail -n 40
done
