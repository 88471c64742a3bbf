#!/usr/bin/env bash
# The Fashion-MNIST DPA pipeline on real data with a tiny schedule:
# ad-import -> ad-select (one class) -> ad-train (the benchmark's
# configuration, 4 steps of 8 images) -> ad-score -> auroc.
. "$(dirname "$0")/../lib.sh"

[ -e "$FMNIST/train-images-idx3-ubyte.gz" ] || skip "Fashion-MNIST not installed ($FMNIST)"
w=$SHARED/weights/vgg19-normalised-conv3_1.pth
[ -f "$w" ] || skip "no $w"
conf=$(cd "$(dirname "$0")/../.." && pwd)/pipelines/configs/fashion-mnist/dpa.conf
ad-import fashion-mnist --split test | ad-select --indexes <(seq 0 99) > "$T/test.ts" || fail "import test"
ad-select --label 0 "$T/test.ts" > "$T/train.ts" || fail "select class 0"
ad-train -q --config "$conf" --weights "$w" --iters 4 --batch-size 8 --samples "$T/samples" \
  --set sample_every=4 -o "$T/m.ts" "$T/train.ts" || fail "train"
[ -s "$T/samples/sample.png" ] || fail "no sample grid"
ad-select --normal 0 "$T/test.ts" | ad-score --weights "$w" "$T/m.ts" > "$T/scores.tsv" || fail "score"
[ "$(wc -l < "$T/scores.tsv")" -eq 101 ] || fail "expected 100 scores"
auroc --format tsv "$T/scores.tsv" | awk -F'\t' 'NR == 2 { exit !($5 > 0 && $5 < 1) }' || fail "auroc"
ok "Fashion-MNIST class 0, 4 steps: AUROC $(auroc --format tsv "$T/scores.tsv" | awk -F'\t' 'NR == 2 { print $5 }')"
