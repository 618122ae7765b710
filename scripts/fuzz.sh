#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ (one per reader) for SECONDS each, one at a
# time, under `nice -n 19`. Not part of CI; see docs/fuzzing.md.
#
#   scripts/fuzz.sh [SECONDS]        (default 600)
#   FUZZ_TARGETS="jsonl jepsen_edn" scripts/fuzz.sh 60
#
# Each target's corpus (fuzz/corpus/<target>/, ignored by git) is seeded from the
# project's own histories and examples, and from ../shared/corpus (or
# $FAULTLINE_CORPUS) when present; the script says so when it is absent. Crashers
# land in fuzz/artifacts/<target>/; the script's exit status is non-zero if any
# target found one. Inputs are at most 16 KiB (-max_len): small histories are where
# the readers' edge cases are, and they run hundreds of times faster. Leak detection
# is off: LeakSanitizer reports the 32 bytes glibc allocates to register a thread-local
# destructor (__cxa_thread_atexit_impl) as a leak, which is not the reader's.
set -u
seconds="${1:-600}"
root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${FAULTLINE_CORPUS:-$root/../shared/corpus}"
targets="${FUZZ_TARGETS:-jsonl jepsen_edn porcupine_etcd porcupine_kv cluster_toml}"

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: needs a nightly toolchain and cargo-fuzz (rustup toolchain install nightly; cargo install cargo-fuzz --locked)" >&2
    exit 2
fi

# seed TARGET FILE... copies the files that exist into the target's corpus.
seed() {
    local target="$1"
    shift
    mkdir -p "$root/fuzz/corpus/$target"
    for f in "$@"; do
        [ -f "$f" ] && cp "$f" "$root/fuzz/corpus/$target/"
    done
}

shopt -s nullglob
seed jsonl "$root"/checkers/tests/histories/*.jsonl
seed jepsen_edn "$root"/checkers/tests/histories/*.edn
seed porcupine_etcd
seed porcupine_kv
seed cluster_toml "$root"/examples/*.toml
if [ -d "$corpus/porcupine" ]; then
    echo "fuzz.sh: seeding from $corpus"
    seed porcupine_etcd "$corpus"/porcupine/jepsen/*.log
    seed porcupine_kv "$corpus"/porcupine/kv/*
    seed jepsen_edn "$corpus"/porcupine/kv/*
else
    echo "fuzz.sh: the shared corpus is absent ($corpus/porcupine not found; set FAULTLINE_CORPUS to use one): seeding from the project's own files only"
fi

failed=0
cd "$root/fuzz" || exit 2
for target in $targets; do
    echo "fuzz.sh: $target for ${seconds}s"
    # cluster_toml needs the main crate: its own feature and target directory, so
    # the reader targets' builds stay small.
    features=()
    [ "$target" = cluster_toml ] && features=(--features cluster --target-dir target/cluster)
    if ! nice -n 19 cargo +nightly fuzz run "${features[@]}" "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len=16384 -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
        -detect_leaks=0; then
        echo "fuzz.sh: $target found a crash (see fuzz/artifacts/$target/)"
        failed=1
    fi
done
exit "$failed"
