#!/usr/bin/env bash
# mkfolds: class-wise folds (proportions, disjointness, determinism, inputs),
# NIH split and folds on a small CSV with quoted fields, Camelyon16 folds,
# the checker on the paper's folds (when ../shared is present), bad inputs.
. "$(dirname "$0")/../lib.sh"
check_help mkfolds
command -v gen-labelled >/dev/null || skip "gen-labelled not built"

# ---- class-wise folds ----
gen-labelled --count 3000 --classes 10 --random-labels --seed 3 >"$T/labels.ts"
mkfolds cifar10 --labels "$T/labels.ts" -o "$T/a" --seed 7 || fail "mkfolds cifar10"
mkfolds check "$T/a" >"$T/a.check" || fail "check of fresh folds: $(cat "$T/a.check")"
[ "$(grep -c '^folds/cifar10/' "$T/a.check")" -eq 30 ] || fail "expected 30 folds"
# Per fold: train+val+test_normal = the class; train ~53.3%, val ~13.3%, test ~33.3%.
ad-inspect "$T/labels.ts" | tr ' ' '\n' | sed -n 's/^\([0-9]\)=\([0-9]*\)$/\1 \2/p' >"$T/class-sizes"
awk -F'\t' 'NR == FNR { size[$1] = $2; next }
  FNR > 1 { split($1, p, "/"); c = p[3]; n = size[c];
    if ($2 + $3 + $4 != n) { print "fold " $1 " covers " $2 + $3 + $4 " of " n; bad = 1 }
    if ($2 / n < 0.52 || $2 / n > 0.545 || $3 / n < 0.125 || $3 / n > 0.14 || $4 / n < 0.325 || $4 / n > 0.345) {
      print "proportions of " $1 ": " $2 "/" $3 "/" $4 " of " n; bad = 1 } }
  END { exit bad }' <(tr ' ' '\t' <"$T/class-sizes") "$T/a.check" || fail "fold proportions"
ok "class-wise folds: 53/13/33 % and disjoint"

# Same seed, same bytes; another seed, other lists; TSV labels = stream labels.
mkfolds cifar10 --labels "$T/labels.ts" -o "$T/b" --seed 7
diff -r "$T/a" "$T/b" >/dev/null || fail "same seed gave different folds"
mkfolds cifar10 --labels "$T/labels.ts" -o "$T/c" --seed 8
diff -r "$T/a" "$T/c" >/dev/null && fail "seeds 7 and 8 gave the same folds"
ad-inspect --list "$T/labels.ts" | sed -n 's/.*label=\([0-9]*\).*index=\([0-9]*\).*/\2\t\1/p' |
  { printf 'index\tlabel\n'; cat; } >"$T/labels.tsv"
mkfolds cifar10 --labels "$T/labels.tsv" -o "$T/d" --seed 7
diff -r "$T/a" "$T/d" >/dev/null || fail "TSV labels gave other folds than the stream"
ok "determinism and TSV labels"

# A given validation CSV is used and copied; the test anomalies are a third of that class.
printf 'class,class_name,valid_class,valid_class_name\n' >"$T/valid.csv"
for c in 0 1 2 3 4 5 6 7 8 9; do printf '%d,x,%d,y\n' $c $(((c + 1) % 10)) >>"$T/valid.csv"; done
mkfolds svhn --labels "$T/labels.ts" -o "$T/e" --validation-classes "$T/valid.csv" || fail "svhn with CSV"
grep -q '^3,3,4,4$' "$T/e/validation_classes/svhn.csv" || fail "svhn validation_classes.csv"
n4=$(grep '^4 ' "$T/class-sizes" | cut -d' ' -f2)
got=$(mkfolds check "$T/e" | awk -F'\t' '$1 == "folds/svhn/3/0" { print $5 }')
[ "$got" -eq $(((n4 + 2) / 3)) ] || fail "test_anomaly of class 3 fold 0: $got, class 4 has $n4"
ok "--validation-classes"

# ---- bad inputs: exit 1, message, no output folder ----
printf 'class,valid\n0,1\n' >"$T/badvalid.csv"
expect_fail 1 "badvalid.csv:line 1: no column 'valid_class'" mkfolds cifar10 --labels "$T/labels.ts" -o "$T/x1" \
  --validation-classes "$T/badvalid.csv"
printf 'index\tlabel\n0\t1\n1\tcat\n' >"$T/badlabels.tsv"
expect_fail 1 "badlabels.tsv:line 3: label 'cat' is not an integer" mkfolds cifar10 --labels "$T/badlabels.tsv" -o "$T/x2"
head -c 300 "$T/labels.ts" >"$T/trunc.ts"
expect_fail 1 "trunc.ts" mkfolds cifar10 --labels "$T/trunc.ts" -o "$T/x3"
for x in x1 x2 x3; do [ ! -e "$T/$x" ] || fail "$x left behind"; done
ls "$T" | grep -q 'tmp-' && fail "a staging folder was left behind"
expect_fail 2 "needs --labels" mkfolds cifar10 -o "$T/x4"
expect_fail 2 "unknown subcommand" mkfolds cifar11 -o "$T/x4"
cp -r "$T/a" "$T/corrupt"
printf '\223NUMPY\001\000\010\000{bad}   ' >"$T/corrupt/folds/cifar10/2/1/val.npy"
expect_fail 1 "folds/cifar10/2/1/val.npy: " mkfolds check "$T/corrupt"
cp "$T/a/folds/cifar10/2/1/train.npy" "$T/corrupt/folds/cifar10/2/1/val.npy"
expect_fail 1 "in both train.npy and val.npy" mkfolds check "$T/corrupt"
ok "bad inputs"

# ---- NIH: a small Data_Entry with quoted fields (and a quote inside one) ----
H='Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],'
{
  echo "$H"
  echo '00000001_000.png,Cardiomegaly,0,1,58,M,PA,2682,2749,0.143,0.143,'
  echo '"00000001_001.png","Cardiomegaly|Emphysema",1,"1",58,M,PA,2894,2729,0.143,0.143,'
  echo '00000002_000.png,No Finding,0,2,81,"M ""x""",PA,2500,2048,0.171,0.171,'
  echo '00000003_000.png,"No Finding",0,3,81,F,AP,2500,2048,0.168,0.168,'
  echo '00000003_001.png,Infiltration,1,3,81,F,AP,2500,2048,0.168,0.168,'
  echo '00000004_000.png,"Hernia",0,4,30,F,PA,2048,2500,0.168,0.168,'
  echo '00000005_000.png,No Finding,0,5,30,"F,",PA,2048,2500,0.168,0.168,'
  echo '00000006_000.png,"Effusion|Infiltration",0,6,30,F,AP,2048,2500,0.168,0.168,'
  echo '00000007_000.png,No Finding,0,7,30,F,AP,2048,2500,0.168,0.168,'
} >"$T/entry.csv"
printf '00000001_000.png\n00000001_001.png\n00000002_000.png\n00000003_000.png\n00000003_001.png\n' >"$T/trainval.txt"
printf '00000004_000.png\n00000005_000.png\n00000006_000.png\n00000007_000.png\n' >"$T/test.txt"
mkfolds nih-split --data-entry "$T/entry.csv" --train-val-list "$T/trainval.txt" --test-list "$T/test.txt" \
  -o "$T/split" || fail "nih-split"
expect_list() { [ "$(tr '\n' ' ' <"$T/split/$1")" = "$2" ] || fail "$1: '$(tr '\n' ' ' <"$T/split/$1")' != '$2'"; }
expect_list PA/normal/train "00000002_000.png "
expect_list PA/normal/test "00000005_000.png "
expect_list PA/anomaly/test "00000004_000.png "
expect_list AP/normal/train "00000003_000.png "
expect_list AP/normal/test "00000007_000.png "
expect_list AP/anomaly/test "00000006_000.png "
ok "nih-split lists"
sed 's/Patient ID/Patient/' "$T/entry.csv" >"$T/nopatient.csv"
expect_fail 1 "nopatient.csv:line 1: no column 'Patient ID'" mkfolds nih-split --data-entry "$T/nopatient.csv" \
  --train-val-list "$T/trainval.txt" --test-list "$T/test.txt" -o "$T/x5"
printf '%s\n"00000001_000.png,No Finding,0,1,58,M,PA\n' "$H" >"$T/unterminated.csv"
expect_fail 1 "unterminated.csv:line 3: unterminated quoted field" mkfolds nih --data-entry "$T/unterminated.csv" \
  --train-val-list "$T/trainval.txt" -o "$T/x6"
[ ! -e "$T/x5" ] && [ ! -e "$T/x6" ] || fail "output left behind"

# NIH folds: 90 patients, patient-disjoint train/val/test, anomalies only
# single-label Infiltration of test patients.
awk -v H="$H" 'BEGIN { print H; srand(5)
  split("No Finding|No Finding|No Finding|Infiltration|Mass|Infiltration%Mass", L, "|")
  for (p = 1; p <= 90; p++) for (k = 0; k < 1 + p % 4; k++) {
    lab = L[1 + int(rand() * 6)]; sub("%", "|", lab)
    printf "%08d_%03d.png,\"%s\",%d,%d,40,M,%s,2048,2048,0.1,0.1,\n", p, k, lab, k, p, (p % 3 ? "PA" : "AP") } }' \
  >"$T/entry2.csv"
tail -n +2 "$T/entry2.csv" | cut -d, -f1 >"$T/trainval2.txt"
mkfolds nih --data-entry "$T/entry2.csv" --train-val-list "$T/trainval2.txt" -o "$T/nih" --seed 3 || fail "mkfolds nih"
mkfolds check "$T/nih" >"$T/nih.check" || fail "check nih folds"
[ "$(cat "$T/nih/validation_classes/nih.csv")" = "$(printf 'Valid Labels\nInfiltration')" ] || fail "nih.csv"
for v in AP PA; do for f in 0 1 2; do
  d="$T/nih/folds/nih/$v/$f"
  for part in normal/train normal/val normal/test; do cut -c1-8 "$d/$part" | sort -u >"$T/p-${part#normal/}"; done
  [ -z "$(comm -12 "$T/p-train" "$T/p-val")$(comm -12 "$T/p-train" "$T/p-test")$(comm -12 "$T/p-val" "$T/p-test")" ] ||
    fail "$v fold $f: patients shared between parts"
  cut -c1-8 "$d/anomaly/test" | sort -u | comm -23 - "$T/p-test" | grep -q . && {
    # an anomaly patient with no normal image is fine; it must not be a train/val patient
    cut -c1-8 "$d/anomaly/test" | sort -u | comm -12 - <(sort -u "$T/p-train" "$T/p-val") | grep -q . &&
      fail "$v fold $f: anomaly from a train/val patient"; }
  while read -r img; do grep -q "^$img,\"Infiltration\"," "$T/entry2.csv" || fail "$img is not single-label Infiltration"
  done <"$d/anomaly/test"
done; done
cat "$T"/nih/folds/nih/PA/0/normal/{train,val,test} | sort | cmp -s - <(grep ',PA,' "$T/entry2.csv" |
  grep ',"No Finding",' | cut -d, -f1 | sort) || fail "PA fold 0 does not cover the normal PA images"
mkfolds nih --data-entry "$T/entry2.csv" --train-val-list "$T/trainval2.txt" -o "$T/nih2" --seed 3
diff -r "$T/nih" "$T/nih2" >/dev/null || fail "nih: same seed, other folds"
ok "nih folds patient-disjoint and deterministic"

# ---- Camelyon16 ----
# Patches interleaved across slides, as the original listdir order was, so
# that the per-patch KFold blocks straddle slides (the leak).
awk 'BEGIN { for (k = 0; k < 4; k++) for (s = 1; s <= 9; s++)
  printf "normal_%03d_normal_x_%d_y_%d_w_768_h_768.jpg\n", (s * 7) % 10 + 1, k * 768, s * 768 }' >"$T/c16-normal"
awk 'BEGIN { for (s = 1; s <= 6; s++) for (k = 0; k < 3; k++)
  printf "tumor_%03d_tumor_x_%d_y_%d_w_768_h_768.jpg\n", s, k * 768, s * 768 }' >"$T/c16-tumor"
printf 'Valid Slides\ntumor_002\ntumor_005\ntumor_002\n' >"$T/c16-valid.csv"
mkfolds camelyon16 --normal-train "$T/c16-normal" --tumor-train "$T/c16-tumor" --validation-slides "$T/c16-valid.csv" \
  -o "$T/c16" --seed 1 || fail "camelyon16"
expect_fail 1 "leak by design" mkfolds check "$T/c16"
mkfolds check --allow-overlap "$T/c16" | awk -F'\t' 'NR > 1 && ($2 + $3 != 36 || $5 != 3) { exit 1 }' ||
  fail "camelyon16 fold sizes"
[ "$(cat "$T/c16/folds/camelyon16/healthy/1/anomaly/test" | cut -c1-9 | sort -u)" = tumor_005 ] || fail "fold 1 anomalies"
mkfolds camelyon16 --normal-train "$T/c16-normal" --tumor-train "$T/c16-tumor" -o "$T/c16s" --seed 1 --by-slide ||
  fail "camelyon16 --by-slide"
mkfolds check "$T/c16s" >/dev/null || fail "--by-slide folds overlap"
[ "$(tail -n +2 "$T/c16s/validation_classes/camelyon16.csv" | wc -l)" -eq 4 ] || fail "4 drawn validation slides"
printf 'normal_001.jpg\n' >"$T/c16-bad"
expect_fail 1 "c16-bad:line 1: cannot find the slide name" mkfolds camelyon16 --normal-train "$T/c16-bad" \
  --tumor-train "$T/c16-tumor" -o "$T/x7"
[ ! -e "$T/x7" ] || fail "output left behind"
ok "camelyon16 folds"

# ---- the paper's folds (../shared), against spec §4.2 ----
[ -d "$SHARED/folds/folds" ] || { echo "no shared folds: paper check skipped"; exit 0; }
mkfolds check --allow-overlap "$SHARED/folds" >"$T/paper.check" || fail "check of the paper's folds"
expect_row() { grep -qx "$(printf '%s\t' "$@" | sed 's/\t$//')" "$T/paper.check" || fail "row $*: $(grep "^$1	" "$T/paper.check")"; }
expect_row folds/camelyon16/healthy/0 6090 1522 7612 100 - 7612
expect_row folds/nih/AP/1 8501 2269 5233 860 - 0
expect_row folds/nih/PA/2 18459 4477 11561 1641 - 0
expect_row folds/nih/subset/0 4261 849 849 857 - 849
expect_row folds/cifar10/4/2 2668 666 1666 1666 - 0
expect_row folds/svhn/1/1 7393 1848 4620 1553 - 0
expect_row folds/svhn/8/2 2692 672 1681 1649 - 0
expect_row train_test_split/camelyon16/healthy 7612 - 4000 817 2169 0
expect_row train_test_split/nih/AP 16003 - 5056 9444 - 0
expect_row train_test_split/nih/PA 34497 - 4805 6291 - 0
expect_row train_test_split/nih/subset 4261 - 677 667 - 0
[ "$(grep -c '^folds/' "$T/paper.check")" -eq 72 ] || fail "expected 72 folds in the paper's folder"
expect_fail 1 "leak by design" mkfolds check "$SHARED/folds"
ok "paper's folds match spec 4.2"
exit 0
