#!/usr/bin/env bash
# The project's test command (README, .ci/run): set up, then lint and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# Release build: the checkers' property tests and the end-to-end runs are much faster.
cargo test --workspace --release
