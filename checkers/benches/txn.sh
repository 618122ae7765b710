#!/bin/bash
# Times the transactional checker at 1M txns against a baseline bench binary in the
# same script: each history is read (`parse`) and read + checked (`check`) by the
# baseline and by this build, alternately, each run under /usr/bin/time (wall, CPU =
# user + system, peak RSS, exit-time freeing included), ROUNDS times (default 2).
# Build first: `cargo bench -p checkers --bench txn --no-run` here and in a worktree
# of the commit to compare with; pass that commit's binary as BASE.
# Usage: BASE=/path/to/old/txn-bench checkers/benches/txn.sh [DIR]
# Each line: history, which (base/new), mode, wall s, cpu s, peak MiB, found.
set -e
NEW=$(ls -t "${CARGO_TARGET_DIR:-target}"/release/deps/txn-* | grep -v '\.d$' | head -1)
DIR=${1:-/tmp/faultline-txn-bench}
mkdir -p "$DIR"
for kind in planted clean; do
  f=$DIR/list-append-1M-$kind.jsonl
  [ -s "$f" ] || "$NEW" gen "$f" 1000000 $([ $kind = planted ] && echo planted)
  for round in $(seq "${ROUNDS:-2}"); do
    for mode in parse check; do
      for which in base new; do
        bin=$NEW; [ $which = base ] && bin=$BASE
        /usr/bin/time -f "%e %U %S %M" -o "$DIR/time.$$" "$bin" $mode "$f" > "$DIR/out.$$"
        read wall user sys kb < "$DIR/time.$$"
        found=$(cut -f4 "$DIR/out.$$")
        echo -e "$(basename "$f")\t$which\t$mode\t$wall\t$(echo "$user + $sys" | bc)\t$((kb / 1024))\t$found"
      done
    done
  done
done
rm -f "$DIR/time.$$" "$DIR/out.$$"
