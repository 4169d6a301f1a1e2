#!/usr/bin/env bash
# A training run killed with SIGKILL at random moments and resumed from its
# checkpoint finishes with exactly the result of an uninterrupted run: the
# same final checkpoint, byte for byte, and the same test accuracy.
#
#   kill_and_resume.sh FASHION_FUSION WORK_DIR [SEED]
#
# The kill moments come from bash's RANDOM seeded with SEED (printed, so a
# failure can be replayed). Kills may land before the first checkpoint,
# while a checkpoint is being written, or after the last one.
set -euo pipefail
trainer="$1"
work="$2"
seed="${3:-1}"
RANDOM=$seed
rm -rf "$work"
mkdir -p "$work"
args=(--model label-aug --fusion --a-size 300 --b-size 2000 --test-size 500 --epochs 6 --steps-per-epoch 15
      --batch 64 --hidden 64 --state 32 --embedding 16 --threads 2 --seed 5 --json)

started=$(date +%s%N)
"$trainer" "${args[@]}" --checkpoint "$work/straight.ckpt" >"$work/straight.out" 2>"$work/straight.err"
duration_ms=$((($(date +%s%N) - started) / 1000000))

# Run 1 is killed at a random moment after its first checkpoint appeared;
# runs 2 and 3 resume and are killed at a random moment in 15-95% of the
# uninterrupted run's duration (before, during or after their own
# checkpoints); the last run resumes and finishes.
kills=0
resumed_kills=0
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
for attempt in 1 2 3; do
  resume=()
  [[ -f "$work/killed.ckpt" ]] && resume=(--resume "$work/killed.ckpt")
  "$trainer" "${args[@]}" --checkpoint "$work/killed.ckpt" "${resume[@]}" >"$work/killed.out" 2>"$work/killed.err" &
  pid=$!
  if [[ $attempt -eq 1 ]]; then
    while [[ ! -f "$work/killed.ckpt" ]] && kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
    delay_ms=$((RANDOM % 400))
    when="${delay_ms} ms after the first checkpoint"
  else
    delay_ms=$((duration_ms * (15 + RANDOM % 81) / 100))
    when="${delay_ms} of ${duration_ms} ms"
  fi
  sleep_ms "$delay_ms"
  outcome=finished
  if kill -KILL "$pid" 2>/dev/null; then
    outcome=killed
    kills=$((kills + 1))
    [[ ${#resume[@]} -gt 0 ]] && resumed_kills=$((resumed_kills + 1))
  fi
  wait "$pid" 2>/dev/null || true
  echo "seed $seed run $attempt ($([[ ${#resume[@]} -gt 0 ]] && echo resumed || echo fresh)): SIGKILL at $when: $outcome"
done
resume=()
[[ -f "$work/killed.ckpt" ]] && resume=(--resume "$work/killed.ckpt")
"$trainer" "${args[@]}" --checkpoint "$work/killed.ckpt" "${resume[@]}" >"$work/killed.out" 2>"$work/killed.err"
grep "resumed from" "$work/killed.err" || echo "final run started from scratch"

if [[ $kills -lt 1 || $resumed_kills -lt 1 ]]; then
  echo "FAIL: $kills runs killed, $resumed_kills of them resumed from a checkpoint; the test proves nothing" >&2
  exit 1
fi
if ! cmp "$work/straight.ckpt" "$work/killed.ckpt"; then
  echo "FAIL: the final checkpoint of the killed and resumed run differs from the uninterrupted run's" >&2
  exit 1
fi
straight=$(grep '^{' "$work/straight.out")
killed=$(grep '^{' "$work/killed.out")
if [[ "$straight" != "$killed" ]]; then
  echo "FAIL: results differ: uninterrupted $straight, killed and resumed $killed" >&2
  exit 1
fi
echo "PASS: $kills SIGKILLs, resumed run identical to the uninterrupted one: $killed"
