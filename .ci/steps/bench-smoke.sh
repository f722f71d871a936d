#!/usr/bin/env bash
# Every benchmark binary must build and finish its --quick mode with BENCH lines; the numbers
# are not judged here (no timing thresholds in CI).
set -euo pipefail
cargo build --profile bench-release -p lute-bench --bins
for src in crates/lute-bench/src/bin/*.rs; do
  b=$(basename "$src" .rs)
  echo "--- $b --quick ---"
  out=$("target/bench-release/$b" --quick)
  echo "$out" | tail -n 30
  echo "$out" | grep -q '^BENCH ' || { echo "$b printed no BENCH lines"; exit 1; }
done
# The README's main job (Nexmark), small: it checks every job's output against the loop's.
cargo build --release -p lute-cli
target/release/lute nexmark --events 200000 --reps 1
