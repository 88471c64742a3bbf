#!/usr/bin/env bash
# make nih-demo with 80 synthetic images and two training iterations: the
# AUROC is written and printed beside the paper's; a second run does
# nothing; the paper's configs ask for torchvision's VGG19 when it is
# missing.
. "$(dirname "$0")/../lib.sh"
top=${ADKIT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
for t in nih-resize mkfolds img2stream ad-train ad-score auroc ad-inspect; do
  [ -x "$top/bin/$t" ] || skip "bin/$t is not built"
done
[ -x "$top/build/gen/gen-nih" ] || skip "build/gen/gen-nih is not built"
[ -f "$SHARED/weights/vgg19-normalised-conv3_1.pth" ] || skip "no $SHARED/weights/vgg19-normalised-conv3_1.pth"
export ADKIT_WEIGHTS=$SHARED/weights

mk() { make --no-print-directory -C "$top" WORK="$T/work" NIH_JOBS=2 "$@"; }

if [ ! -f "$top/weights/vgg19-dcbb9e9d.pth" ] && [ ! -f "$SHARED/weights/vgg19-dcbb9e9d.pth" ]; then
  mk nih-weights VIEW=subset >"$T/log" 2>&1 && fail "nih-weights without VGG19 succeeded"
  grep -q "download.pytorch.org/models/vgg19-dcbb9e9d.pth" "$T/log" || fail "no weights hint: $(cat "$T/log")"
  ok "missing VGG19: where to get it"
fi
mk nih-dpa NIH="$T/none" VIEW=PA >"$T/log" 2>&1 && fail "nih-dpa without data succeeded"
grep -q "Download https://nihcc.app.box.com" "$T/log" || fail "no download hint: $(cat "$T/log")"

demo=(nih-demo NIH_DEMO_COUNT=80 NIH_DEMO_TRAIN_FLAGS="--iters 2 --batch-size 4")
mk "${demo[@]}" >"$T/log" 2>&1 || fail "nih-demo: $(tail -n 20 "$T/log")"
D=$T/work/demo/nih
res=$D/results/PA-dpa-demo.tsv
auc=$(awk -F'\t' 'NR == 2 { print $5 }' "$res")
awk -v a="$auc" 'BEGIN { exit !(a >= 0 && a <= 1) }' || fail "AUROC '$auc'"
grep -q "AUROC: *$auc .*paper's DPA: 0.920" "$T/log" || fail "AUROC not printed beside the paper's: $(tail -n 5 "$T/log")"
n_test=$(ad-inspect "$D/PA/test.ts" | sed -n '1s/ records.*//p')
[ "$(($(wc -l <"$D/PA/dpa-demo/scores.tsv") - 1))" = "$n_test" ] || fail "one score per test image"
[ -s "$D/PA/dpa-demo/model.ts" ] && [ -s "$D/PA/dpa-demo/loss.tsv" ] && [ -s "$D/PA/dpa-demo/roc.png" ] ||
  fail "model, loss log or ROC missing"
ok "demo: AUROC $auc on $n_test test images"
mk "${demo[@]}" >"$T/log2" 2>&1 || fail "second run"
grep -qE 'bin/(nih-resize|ad-train|ad-score)' "$T/log2" && fail "second run redid work: $(cat "$T/log2")"
ok "second run does nothing"
exit 0
