#!/bin/sh
# The no-op driver throughput before (cf55ed2) and after the run-plan change, alternated.
for i in 1 2; do
  echo "base: $(/tmp/bench-base 2>&1 | grep 'no-op client')"
  echo "plan: $(/tmp/bench-new 2>&1 | grep 'no-op client')"
done
