#!/usr/bin/env bash
set -euo pipefail
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo --version; rustc --version
