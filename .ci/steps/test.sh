#!/usr/bin/env bash
# The README's test command, verbatim.
set -euo pipefail
cargo test --workspace --release
