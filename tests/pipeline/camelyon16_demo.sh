#!/usr/bin/env bash
# make camelyon16-demo with a tiny geometry and schedule (level 6, x10 by a
# factor 2, 20 patches per slide, two training iterations): every stage's output, the labels of
# the x10 split, the AUROC and the heat map; a second run does nothing; a
# run after losing the model resumes from the checkpoint; missing data and
# missing weights stop with what to download.
. "$(dirname "$0")/../lib.sh"
top=${ADKIT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
for t in slide2patches stainnorm patch-rescale ad-select ad-train ad-score auroc slide-heatmap ad-inspect; do
  [ -x "$top/bin/$t" ] || skip "bin/$t is not built"
done
[ -x "$top/build/gen/gen-slide" ] || skip "build/gen/gen-slide is not built"
[ -f "$SHARED/weights/vgg19-normalised-conv3_1.pth" ] || skip "no $SHARED/weights/vgg19-normalised-conv3_1.pth"
export ADKIT_WEIGHTS=$SHARED/weights

mk() { make --no-print-directory -C "$top" WORK="$T/work" C16_JOBS=2 "$@"; }

mk camelyon16-dpa CAMELYON16="$T/none" >"$T/log" 2>&1 && fail "camelyon16-dpa without data succeeded"
grep -q "Download CAMELYON16" "$T/log" || fail "no download hint: $(cat "$T/log")"
[ ! -e "$T/work/camelyon16" ] || fail "output written without data: $(find "$T/work")"
if [ ! -f "$top/weights/vgg19-dcbb9e9d.pth" ] && [ ! -f "$SHARED/weights/vgg19-dcbb9e9d.pth" ]; then
  mk camelyon16-weights EXP=wo_pg >"$T/log" 2>&1 && fail "camelyon16-weights without VGG19 succeeded"
  grep -q "download.pytorch.org/models/vgg19-dcbb9e9d.pth" "$T/log" || fail "no weights hint: $(cat "$T/log")"
fi
ok "missing data and weights: what to download"

demo=(camelyon16-demo C16_DEMO_LEVEL=6 C16_X10_FACTOR=2 C16_MAX_PATCHES=20 C16_DEMO_TRAIN_FLAGS="--iters 2 --batch-size 4")
mk "${demo[@]}" >"$T/log" 2>&1 || fail "camelyon16-demo: $(tail -n 20 "$T/log")"
W=$T/work/camelyon16-demo/camelyon16
grep -q "normal_056.tif is missing: stain target fitted on patch normal_001_normal_x_" "$T/log" ||
  fail "stain target fallback not announced"
grep -q "^stain_h" "$W/stain_target.txt" || fail "no stain target"
for s in train/normal/normal_001 train/normal/normal_002 test/normal/test_003 test/tumor/test_001; do
  [ -s "$W/norm/$s.ts" ] && [ -s "$W/x10/$s.ts" ] || fail "missing per-slide stream $s"
done
ad-inspect "$W/x10/train.ts" | grep -q 'u8 3x96x96: 40$' || fail "x10 train: $(ad-inspect "$W/x10/train.ts")"
ad-inspect "$W/x10/train.ts" | grep -q 'labels: 0=40$' || fail "x10 train labels"
ad-inspect "$W/x10/test.ts" | grep -qE 'labels: 0=40 1=[1-9][0-9]*$' || fail "x10 test: $(ad-inspect "$W/x10/test.ts")"
n_test=$(ad-inspect "$W/x10/test.ts" | sed -n '1s/ records.*//p')
[ "$(($(wc -l <"$W/dpa-demo/scores.tsv") - 1))" = "$n_test" ] || fail "one score per test patch"
auc=$(awk -F'\t' 'NR == 2 { print $5 }' "$W/results/dpa-demo.tsv")
awk -v a="$auc" 'BEGIN { exit !(a >= 0 && a <= 1) }' || fail "AUROC '$auc'"
grep -q "AUROC: *$auc" "$T/log" || fail "AUROC not printed"
grep -q "normalised VGG19 prefix" "$T/log" || fail "the demo does not say which VGG it used"
/usr/bin/python3 -c "
from PIL import Image; import sys
im = Image.open(sys.argv[1]); assert im.mode == 'RGB' and im.size[0] > 100, im.size" "$W/dpa-demo/heatmaps/test_001.png" ||
  fail "heat map"
[ -s "$W/dpa-demo/roc.png" ] || fail "no ROC curve"
ok "demo: stain target, per-slide stages, x10 split ($n_test test patches), AUROC $auc, heat map"

mk "${demo[@]}" >"$T/log2" 2>&1 || fail "second run: $(tail -n 5 "$T/log2")"
grep -qE 'bin/(slide2patches|stainnorm|patch-rescale|ad-train|ad-score)' "$T/log2" && fail "second run redid work: $(cat "$T/log2")"
rm "$W/dpa-demo/model.ts"
mk "${demo[@]}" >"$T/log3" 2>&1 || fail "resume: $(tail -n 5 "$T/log3")"
grep -q 'ad-train .*--resume' "$T/log3" || fail "training not resumed: $(cat "$T/log3")"
grep -q 'bin/stainnorm' "$T/log3" && fail "resume redid the stain normalisation"
ok "second run does nothing; a lost model is resumed from its checkpoint"
exit 0
