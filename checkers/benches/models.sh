#!/bin/bash
# Times every causal, PRAM and session model (and sequential on run histories) on
# the given histories, one child process per figure (the bench binary's `one`
# subcommand): the read time in each line is the baseline, reading the same file in
# the same process. Build first: `cargo bench -p checkers --bench models --no-run`.
# Usage: checkers/benches/models.sh A.jsonl B.jsonl ...
# Each line: history, ops, model, verdict, read ms (baseline, same process), check ms, check/read, peak MiB.
# MODELS_BIN=a:b runs each figure with each of these bench binaries in turn (say, a
# copy built at the commit before a change, then the current one), the binary's name
# ahead of each line, so a change is measured against its baseline in one script.
BINS=${MODELS_BIN:-$(ls -t "${CARGO_TARGET_DIR:-target}"/release/deps/models-* | grep -v '\.d$' | head -1)}
FAST="causal causal-memory causal-convergence pram read-your-writes monotonic-reads monotonic-writes writes-follow-reads"
for f in "$@"; do
  models="$FAST"; case $f in *kv-1*) ;; *) models="sequential $FAST";; esac
  for m in $models; do
    for b in ${BINS//:/ }; do
      $b one $m $f > /tmp/models-out.$$ 2>/dev/null
      read ops rd ck v pk < /tmp/models-out.$$
      tag=""; [ -n "$MODELS_BIN" ] && tag="$(basename $b)\t"
      echo -e "$tag$(basename $f)\t$ops\t$m\t$v\t$rd\t$ck\t$(echo "scale=2; $ck/$rd" | bc)\t$pk"
    done
  done
done
rm -f /tmp/models-out.$$
