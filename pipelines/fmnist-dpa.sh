#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Fashion-MNIST one-class DPA benchmark (run by `make fmnist-dpa` and
# `make demo`, see pipelines/fmnist.mk): for each class k, train DPA on the
# training images of class k and score the test set (class k normal, the
# other nine anomalous); AUROC per class and their mean go to a TSV.
#
#   pipelines/fmnist-dpa.sh [--demo] [--download] WORK RESULTS CONFIG CLASS...
#
# Every step writes its output atomically and is skipped when the output
# exists, so an interrupted run continues where it stopped (training resumes
# from its checkpoint). Extra ad-train flags come from $FMNIST_TRAIN_FLAGS,
# ad-train/ad-score threads from $FMNIST_JOBS; --demo scores only the first
# $DEMO_TEST test images.
set -euo pipefail
demo=0 download=0
while [ $# -gt 0 ]; do
  case $1 in
    --demo) demo=1; shift ;;
    --download) download=1; shift ;;
    *) break ;;
  esac
done
[ $# -ge 4 ] || { echo "usage: $0 [--demo] [--download] WORK RESULTS CONFIG CLASS..." >&2; exit 2; }
work=$1 results=$2 config=$3; shift 3
jobs=${FMNIST_JOBS:+-j $FMNIST_JOBS}
fmnist=${FMNIST:-/usr/share/datasets/fashion-mnist}
export PATH="$PWD/bin:$PATH"

# The perceptual network's weights: $ADKIT_WEIGHTS, ./weights or ../shared/weights.
wfile=vgg19-normalised-conv3_1.pth
weights=
for d in ${ADKIT_WEIGHTS:-} weights ../shared/weights; do
  [ -f "$d/$wfile" ] && { weights=$d/$wfile; break; }
done
if [ -z "$weights" ] && [ $download -eq 1 ]; then
  make --no-print-directory weights && weights=weights/$wfile
fi
if [ -z "$weights" ]; then
  echo "fmnist-dpa: the perceptual network's weights $wfile are missing." >&2
  echo "  Put the file in ./weights/ (or set ADKIT_WEIGHTS=FOLDER); \`make weights\` downloads it from" >&2
  echo "  github.com/jkbehne/GOTStyleTranfer (models/vgg_normalised_conv3_1.pth, commit 9268fb86)." >&2
  exit 1
fi
[ -e "$fmnist/train-images-idx3-ubyte.gz" ] || {
  echo "fmnist-dpa: Fashion-MNIST is not installed in $fmnist (make deps installs dataset-fashion-mnist)" >&2; exit 1; }

mkdir -p "$work" "$(dirname "$results")"
# Each step: run into a temporary name, rename when it succeeded.
[ -f "$work/train.ts" ] || ad-import fashion-mnist --root "$fmnist" --split train -o "$work/train.ts"
[ -f "$work/test.ts" ] || ad-import fashion-mnist --root "$fmnist" --split test -o "$work/test.ts"
test_ts=$work/test.ts
if [ $demo -eq 1 ]; then
  [ -f "$work/test-demo.ts" ] || ad-select --indexes <(seq 0 $((${DEMO_TEST:-2000} - 1))) "$work/test.ts" \
    -o "$work/test-demo.ts"
  test_ts=$work/test-demo.ts
fi

rows=()
for k in "$@"; do
  d=$work/dpa/class$k
  mkdir -p "$d"
  [ -f "$d/train.ts" ] || ad-select --label "$k" --normal "$k" "$work/train.ts" -o "$d/train.ts"
  [ -f "$d/test.ts" ] || ad-select --normal "$k" "$test_ts" -o "$d/test.ts"
  if [ ! -f "$d/model.ts" ]; then
    resume=
    [ -f "$d/model.ckpt.ts" ] && resume=--resume
    echo "fmnist-dpa: class $k: training ($config${FMNIST_TRAIN_FLAGS:+ $FMNIST_TRAIN_FLAGS})" >&2
    start=$(date +%s)
    # shellcheck disable=SC2086
    ad-train $jobs --config "$config" ${FMNIST_TRAIN_FLAGS:-} --weights "$weights" $resume \
      --log "$d/loss.tsv" --samples "$d/samples" -o "$d/model.ts" "$d/train.ts"
    echo "fmnist-dpa: class $k: trained in $(( $(date +%s) - start )) s" >&2
  fi
  if [ ! -f "$d/scores.tsv" ]; then
    start=$(date +%s)
    # shellcheck disable=SC2086
    ad-score $jobs --weights "$weights" "$d/model.ts" "$d/test.ts" -o "$d/scores.tsv"
    echo "fmnist-dpa: class $k: scored in $(( $(date +%s) - start )) s" >&2
  fi
  auroc --roc "$d/roc.png" --format tsv "$d/scores.tsv" > "$d/auroc.tsv"
  rows+=("$k	$(awk -F'\t' 'NR == 2 { print $5 }' "$d/auroc.tsv")")
done

tmp=$(mktemp "$results.XXXXXX")
{
  printf 'class\tauroc\n'
  printf '%s\n' "${rows[@]}"
  printf '%s\n' "${rows[@]}" | awk -F'\t' '{ s += $2; n++ } END { printf "mean\t%.4f\n", s / n }'
} > "$tmp"
mv "$tmp" "$results"
echo "== Fashion-MNIST one-class DPA AUROC ($results)"
column -t -s "$(printf '\t')" "$results"
