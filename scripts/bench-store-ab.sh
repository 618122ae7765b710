#!/usr/bin/env bash
# Driver → reference store throughput, this checkout's store against the store of an
# earlier revision, interleaved in one script (the machine is noisy: compare the pairs).
#   bash scripts/bench-store-ab.sh REV [CONCURRENCIES] [ROUNDS]
# e.g. bash scripts/bench-store-ab.sh a9b2351 32,128 2
# Both runs use this checkout's driver (examples/driver_bench.rs); only the
# faultline-store binary differs: the bench takes the one next to its executable.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: bench-store-ab.sh REV [CONCURRENCIES] [ROUNDS]}
conc=${2:-32,128}
rounds=${3:-2}
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cargo build --release --workspace --bins --examples
git worktree add -q "$work/src" "$rev"
(cd "$work/src" && CARGO_TARGET_DIR="$work/target" cargo build --release -p stores)
mkdir -p "$work/old" "$work/new"
cp "$work/target/release/faultline-store" "$work/old/"
cp "$target/release/faultline-store" "$work/new/"
cp "$target/release/examples/driver_bench" "$work/old/"
cp "$target/release/examples/driver_bench" "$work/new/"
for _ in $(seq "$rounds"); do
    for side in new old; do
        "$work/$side/driver_bench" store "$conc" | grep '^reference store' | sed "s/^/$side ($rev): /;s/^new ($rev)/new (HEAD)/"
    done
done
