#!/usr/bin/env bash
# DPA training and scoring speed and peak memory, beside the same step in
# PyTorch (tests/bench/dpa_torch.py) at the same thread count: the paper's
# camelyon16 wo_pg (3x64x64, batch 128, r42) and nih PA wo_pg (1x64x64, batch
# 128, r32) configurations on synthetic images, with a VGG19 of random
# weights (tests/bench/dpa_weights.py; the speed does not depend on them).
# BENCH_DPA_ITERS (default 3) timed training steps after one warm-up step.
# Scoring: PyTorch times 256 images after a warm-up batch, on tensors
# already in memory; adkit's steady state is the same 256 images' share of
# an ad-score run over 512 (its time minus that of a run over the first
# 256: start-up and first-batch costs cancel; reading, cropping and
# resizing the images stay in). "e2e" is the whole 512-image run, start-up
# included, as a user sees it. BENCH_DPA_ROUNDS (default 2) rounds
# alternate adkit and PyTorch; each speed is the best of its rounds and each
# peak RSS the largest, on both sides alike (a shared or virtual machine
# can lose a third of a run's speed to its neighbours).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export PATH="$top/bin:$top/build/gen:$PATH"
iters=${BENCH_DPA_ITERS:-3} rounds=${BENCH_DPA_ROUNDS:-2} threads=${OMP_NUM_THREADS:-$(nproc)}
/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "bench_dpa: needs python3-torch (make deps-dev) for the VGG19 weights"; exit 0; }
T=$(mktemp -d "${TMPDIR:-/tmp}/adkit-bench-dpa.XXXXXX")
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 tests/bench/dpa_weights.py "$T" || exit 1
for name in camelyon16 nih-pa; do
  case $name in camelyon16) geom="-c 3 -s 192" ;; nih-pa) geom="-c 1 -s 300" ;; esac
  # shellcheck disable=SC2086 # geom is two options
  gen-images -n 512 $geom --seed 1 > "$T/$name-512.ts" || exit 1
  ad-select --head 256 "$T/$name-512.ts" > "$T/$name.ts" || exit 1
done
# Seconds of an ad-score run of the trained model over $1 (peak RSS into $T/rss).
score_run() {
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f %M -o "$T/rss" ad-score -j "$threads" --weights "$T/vgg19-dcbb9e9d.pth" "$T/m.ts" "$1" \
    > "$T/scores.tsv" || { echo "ad-score failed" >&2; return 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }'
}
echo "threads: $threads; training: $iters steps after a warm-up step; scoring: 256 images (steady state), 512 (e2e); best of $rounds rounds"
printf '%-12s %-8s %12s %12s %12s %14s\n' config impl "train img/s" "score img/s" "e2e img/s" "peak RSS MB"
# keep FILE VALUES...: FILE holds the best speeds and the largest RSS so far
# (train score e2e rss).
keep() {
  local f=$1
  shift
  if [ -s "$f" ]; then
    read -r a b c d <"$f"
    awk -v a="$a" -v b="$b" -v c="$c" -v d="$d" -v x="$1" -v y="$2" -v z="$3" -v w="$4" 'BEGIN {
      if (x + 0 > a + 0) a = x; if (y + 0 > b + 0) b = y; if (z + 0 > c + 0) c = z; if (w + 0 > d + 0) d = w
      print a, b, c, d }' >"$f"
  else
    echo "$@" >"$f"
  fi
}
for name in camelyon16 nih-pa; do
  case $name in
    camelyon16) conf=pipelines/configs/camelyon16/dpa-wo_pg.conf ;;
    nih-pa) conf=pipelines/configs/nih/PA/dpa-wo_pg.conf ;;
  esac
  for r in $(seq "$rounds"); do
    /usr/bin/time -f %M -o "$T/rss" ad-train -q -j "$threads" --config "$conf" --weights "$T/vgg19-dcbb9e9d.pth" \
      --iters $((iters + 1)) --set log_every=1 --set sample_every=0 --set checkpoint_every=0 \
      --log "$T/log" -o "$T/m.ts" "$T/$name.ts" || { echo "ad-train failed"; exit 1; }
    # Steady state from the cumulative rates of the log (images/s since the
    # start after n steps): (n - 1) batches over the time of steps 2..n.
    train=$(awk -F'\t' 'NR > 1 { n = NR - 1; t[n] = n / $6 } END {
      printf "%.1f", (n - 1) / (t[n] - t[1]) }' "$T/log")
    rss_train=$(cat "$T/rss")
    # Scoring: the first 256 images, then all 512.
    t256=$(score_run "$T/$name.ts") || exit 1
    t512=$(score_run "$T/$name-512.ts") || exit 1
    score=$(awk -v a="$t256" -v b="$t512" 'BEGIN { printf "%.1f", 256 / (b - a) }')
    e2e=$(awk -v b="$t512" 'BEGIN { printf "%.1f", 512 / b }')
    rss=$((rss_train > $(cat "$T/rss") ? rss_train : $(cat "$T/rss")))
    keep "$T/$name.adkit" "$train" "$score" "$e2e" "$((rss / 1024))"
    read -r ttrain tscore trss < <(/usr/bin/python3 tests/bench/dpa_torch.py "$name" "$iters" "$threads")
    keep "$T/$name.torch" "$ttrain" "$tscore" - "$trss"
  done
  read -r train score e2e rss <"$T/$name.adkit"
  printf '%-12s %-8s %12s %12s %12s %14s\n' "$name" adkit "$train" "$score" "$e2e" "$rss"
  read -r ttrain tscore _ trss <"$T/$name.torch"
  printf '%-12s %-8s %12s %12s %12s %14s\n' "$name" pytorch "$ttrain" "$tscore" - "$trss"
done
