#!/usr/bin/env bash
# Optional extra checks contributed by crates (each script in .ci/extra/ runs in turn).
set -euo pipefail
shopt -s nullglob
for s in .ci/extra/*.sh; do
  echo "--- $s ---"
  bash "$s"
done
