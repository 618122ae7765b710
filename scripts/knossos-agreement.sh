#!/usr/bin/env bash
# Measures how often `faultline check` agrees with Knossos on Knossos's own test data:
# every data/cas-register/{good,bad}/*.edn file, which Knossos's core_test.clj
# (`test-examples`) checks with (cas-register 0) and expects valid in good/ and
# invalid in bad/. faultline is run with Knossos's meaning: --model cas-register
# --initial 0 --nil-read any (an ok read of nil is "value unknown"); NIL_READ=value
# measures faultline's default meaning instead.
#
#   scripts/knossos-agreement.sh [KNOSSOS_DIR] [FAULTLINE]
#
# KNOSSOS_DIR is a checkout (or an extract) of jepsen-io/knossos holding data/
# (default $KNOSSOS_DIR, else /tmp/knossos); it is never part of this repository.
# FAULTLINE is the binary (default target/debug/faultline, or $CARGO_TARGET_DIR's).
# Prints one line per disagreement and the agreement count; skips (exit 0) with a
# message when the data is absent.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
knossos="${1:-${KNOSSOS_DIR:-/tmp/knossos}}"
faultline="${2:-${CARGO_TARGET_DIR:-$root/target}/debug/faultline}"
nil_read="${NIL_READ:-any}"
data="$knossos/data/cas-register"
if [ ! -d "$data/good" ] || [ ! -d "$data/bad" ]; then
    echo "knossos-agreement: Knossos's data is absent ($data/good and $data/bad not found; fetch jepsen-io/knossos and pass its directory): skipped"
    exit 0
fi
if [ ! -x "$faultline" ]; then
    echo "knossos-agreement: no faultline binary at $faultline (cargo build --bin faultline, or pass its path)" >&2
    exit 2
fi

total=0 agree=0
declare -A seen agreed
for label in good bad; do
    seen[$label]=0 agreed[$label]=0
    for f in "$data/$label"/*.edn; do
        "$faultline" check --format jepsen-edn --model cas-register --initial 0 \
            --nil-read "$nil_read" --timeout 60 "$f" >/tmp/knossos-agreement.$$ 2>&1
        code=$?
        case $code in
            0) got=valid ;;
            1) got=invalid ;;
            2) got=unknown ;;
            *) got="error($code)" ;;
        esac
        want=$([ "$label" = good ] && echo valid || echo invalid)
        total=$((total + 1))
        seen[$label]=$((seen[$label] + 1))
        if [ "$got" = "$want" ]; then
            agree=$((agree + 1))
            agreed[$label]=$((agreed[$label] + 1))
        else
            echo "disagree: $label/$(basename "$f"): Knossos $want, faultline $got: $(grep -m1 -v '^note:' /tmp/knossos-agreement.$$ | cut -c1-160)"
        fi
    done
done
rm -f /tmp/knossos-agreement.$$
echo "knossos-agreement (--nil-read $nil_read): faultline agrees with Knossos on $agree of $total files (${agreed[good]} of ${seen[good]} valid, ${agreed[bad]} of ${seen[bad]} invalid)"
