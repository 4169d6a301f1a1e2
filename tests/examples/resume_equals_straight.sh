#!/usr/bin/env bash
# A trainer stopped after its first epoch (--stop-after 1) and resumed from
# its checkpoint ends with the checkpoint and result of an uninterrupted run,
# byte for byte.
#
#   resume_equals_straight.sh TRAINER WORK_DIR TRAINER_ARGS...
set -euo pipefail
trainer="$1"
work="$2"
shift 2
rm -rf "$work"
mkdir -p "$work"
"$trainer" "$@" --checkpoint "$work/straight.ckpt" >"$work/straight.out" 2>"$work/straight.err"
"$trainer" "$@" --checkpoint "$work/resumed.ckpt" --stop-after 1 >/dev/null 2>"$work/first.err"
"$trainer" "$@" --checkpoint "$work/resumed.ckpt" --resume "$work/resumed.ckpt" >"$work/resumed.out" 2>"$work/resumed.err"
grep -q "resumed from" "$work/resumed.err" || { echo "FAIL: the second run did not resume"; exit 1; }
cmp "$work/straight.ckpt" "$work/resumed.ckpt" || { echo "FAIL: final checkpoints differ"; exit 1; }
diff "$work/straight.out" "$work/resumed.out" || { echo "FAIL: results differ"; exit 1; }
echo "PASS: resumed run equals the uninterrupted one ($(tail -n 1 "$work/straight.out"))"
