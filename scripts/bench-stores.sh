#!/usr/bin/env bash
# Every reference store through the driver: `faultline run` at full speed (--rate 0),
# no faults, 3 nodes, then throughput and latency percentiles of the main phase read
# from the run's history.jsonl (each completion's `latency`, ns). The leaderless store
# runs in the same script as the baseline: every figure is also a ratio against it
# (kv rows against leaderless kv, list-append rows against leaderless list-append).
#   bash scripts/bench-stores.sh [CONCURRENCY] [SECONDS] [ROUNDS]
# e.g. bash scripts/bench-stores.sh 32 10 2
# Builds nothing: it runs $CARGO_TARGET_DIR/release/faultline (default target/), built
# with `cargo build --release -p faultline -p stores`. Rounds interleave the stores
# (the machine is noisy: compare within a round). Numbers go to BENCHMARKS.md
# ("Every reference store through the driver").
set -euo pipefail
cd "$(dirname "$0")/.."
conc=${1:-32}
secs=${2:-10}
rounds=${3:-2}
bin=${CARGO_TARGET_DIR:-target}/release/faultline
[ -x "$bin" ] || { echo "no $bin: cargo build --release -p faultline -p stores" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name | workload | store flags
rows=(
    "leaderless|kv|--store leaderless"
    "primary-backup sync|kv|--store primary-backup --replication sync"
    "primary-backup async|kv|--store primary-backup --replication async"
    "multi-leader|kv|--store multi-leader"
    "multi-leader version-vectors|kv|--store multi-leader --causality version-vectors"
    "leaderless|list-append|--store leaderless"
    "two-phase-commit|list-append|--store two-phase-commit"
)

# Throughput and percentiles of the ops invoked in the main phase ($secs from the
# first invoke), ok completions only; one tab-separated line.
summarize() {
    python3 - "$1" "$secs" <<'EOF'
import json, sys
path, secs = sys.argv[1], float(sys.argv[2])
invoked, lat, failed = {}, [], 0
t0 = None
with open(path) as f:
    for line in f:
        e = json.loads(line)
        if not isinstance(e.get("process"), int):
            continue  # the nemesis
        if e["type"] == "invoke":
            t0 = e["time"] if t0 is None else t0
            invoked[e["process"]] = e["time"]
        elif invoked.get(e["process"], float("inf")) < t0 + secs * 1e9:
            if e["type"] == "ok":
                lat.append(e["latency"] / 1e3)
            else:
                failed += 1
            del invoked[e["process"]]
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
ok = 100 * len(lat) / max(1, len(lat) + failed)
print(f"{len(lat) / secs:.0f}\t{ok:.0f}\t{pct(0.5):.0f}\t{pct(0.9):.0f}\t{pct(0.99):.0f}\t{lat[-1] if lat else 0:.0f}")
EOF
}

echo -e "round\tstore\tworkload\tok ops/s\tok %\tp50 µs\tp90 µs\tp99 µs\tmax µs\tops/s vs leaderless\tp50 vs leaderless"
for round in $(seq "$rounds"); do
    declare -A base_tput=() base_p50=()
    for row in "${rows[@]}"; do
        IFS='|' read -r name workload flags <<<"$row"
        check=eventual
        [ "$workload" = list-append ] && check=read-committed
        # shellcheck disable=SC2086
        "$bin" run $flags --workload "$workload" --nodes 3 --concurrency "$conc" --rate 0 \
            --time-limit "${secs}s" --nemesis none --seed 1 --consistency "$check" \
            --results "$work/r$round" --name "bench-$round-${name// /-}-$workload" \
            >"$work/out" 2>&1 || [ $? -le 2 ] || { cat "$work/out" >&2; exit 1; }
        dir=$(sed -n 's/^run: //p' "$work/out")
        IFS=$'\t' read -r tput okp p50 p90 p99 max <<<"$(summarize "$dir/history.jsonl")"
        if [ "$name" = leaderless ]; then
            base_tput[$workload]=$tput
            base_p50[$workload]=$p50
        fi
        ratio() { python3 -c "print(f'{$1 / $2:.2f}×')"; }
        echo -e "$round\t$name\t$workload\t$tput\t$okp\t$p50\t$p90\t$p99\t$max\t$(ratio "$tput" "${base_tput[$workload]}")\t$(ratio "$p50" "${base_p50[$workload]}")"
    done
done
