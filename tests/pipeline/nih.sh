#!/usr/bin/env bash
# pipelines/nih.mk on a generated NIH download: resize, view split, the
# train/test streams, their sizes and labels against Data_Entry, a second
# run that does nothing, and the message when the data is missing.
. "$(dirname "$0")/../lib.sh"
top=${ADKIT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
for t in nih-resize mkfolds img2stream ad-inspect; do
  [ -x "$top/bin/$t" ] || skip "bin/$t is not built"
done
[ -x "$top/build/gen/gen-nih" ] || skip "build/gen/gen-nih is not built"

mk() { make --no-print-directory -C "$top" WORK="$T/work" NIH_JOBS=2 "$@"; }

expect_fail 2 "VIEW must be AP, PA or subset" mk nih-streams VIEW=XY NIH="$T/nih"
mk nih-streams NIH="$T/none" > "$T/log" 2>&1 && fail "nih-streams without data succeeded"
grep -q "Download https://nihcc.app.box.com" "$T/log" || fail "no download hint: $(cat "$T/log")"
ok "missing data: download hint"

gen-nih -o "$T/nih" -n 60 -s 64 --seed 4 >/dev/null || fail "gen-nih"
csv="$T/nih/Data_Entry_2017.csv"
for view in PA AP; do
  mk nih-streams NIH="$T/nih" VIEW=$view > "$T/log" 2>&1 || fail "nih-streams VIEW=$view: $(tail -n 5 "$T/log")"
  # Expected counts straight from Data_Entry and the official lists (spec 4.6).
  count() { # list labels-test: rows of $view in list with "No Finding" (==) or not (!=)
    awk -F, -v v=$view -v op="$2" 'NR == FNR { in_list[$1] = 1; next }
      FNR > 1 && in_list[$1] && $7 == v && ((op == "==") == ($2 == "No Finding")) { n++ } END { print n + 0 }' \
      "$T/nih/$1" "$csv"
  }
  want_train=$(count train_val_list.txt ==) want_tn=$(count test_list.txt ==) want_ta=$(count test_list.txt !=)
  d="$T/work/nih/$view"
  ad-inspect "$d/train.ts" | head -n 1 | grep -qx "$want_train records" || fail "$view train: want $want_train"
  ad-inspect "$d/test.ts" > "$T/sum"
  head -n 1 "$T/sum" | grep -qx "$((want_tn + want_ta)) records" || fail "$view test: $(cat "$T/sum")"
  grep -q "labels: 0=$want_tn 1=$want_ta" "$T/sum" || [ "$want_ta" -eq 0 ] || fail "$view test labels: $(cat "$T/sum")"
  grep -q "u8 1x300x300" "$T/sum" || fail "$view test shape"
  ok "VIEW=$view: train $want_train, test $want_tn normal + $want_ta anomalous"
done
mk nih-streams NIH="$T/nih" VIEW=PA > "$T/log" 2>&1 || fail "second run"
grep -q "Nothing to be done" "$T/log" || fail "second run did work: $(cat "$T/log")"
ok "second run does nothing"
