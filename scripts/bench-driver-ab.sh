#!/bin/sh
# The driver's no-op throughput of two builds, alternated in one script:
#   scripts/bench-driver-ab.sh BASE_BIN NEW_BIN [ROUNDS [ARGS...]]
# (ARGS go to both, e.g. `store 32` to add the reference store at concurrency 32)
# where each BIN is a release `examples/driver_bench` (copy them out of target/ first:
# the same path is overwritten by the next build). Prints each round's no-op line.
base=$1
new=$2
rounds=${3:-3}
shift 3 2>/dev/null || shift $#
i=1
while [ "$i" -le "$rounds" ]; do
  "$base" "$@" 2>&1 | grep -E 'no-op client|reference store' | sed "s/^/round $i base: /"
  "$new" "$@" 2>&1 | grep -E 'no-op client|reference store' | sed "s/^/round $i new:  /"
  i=$((i + 1))
done
