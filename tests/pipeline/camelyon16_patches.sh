#!/usr/bin/env bash
# pipelines/camelyon16.mk on a miniature Camelyon16 tree of generated slides
# (level 4, 48-px patches): per-slide streams, excluded slides skipped,
# resume without redoing work, SPLITS reproducing a given patch list, and
# the message when the data are missing.
. "$(dirname "$0")/../lib.sh"
top=${ADKIT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v gen-slide >/dev/null || skip "gen-slide not built"
[ -x "$top/bin/slide2patches" ] || skip "slide2patches not built"
D=$T/c16
mkdir -p "$D"/training/{normal,tumor,lesion_annotations} "$D"/testing/{images,lesion_annotations}
g() { gen-slide --mask-level 4 --size 96x84 "$@" || fail "gen-slide $*"; }
g --seed 1 "$D/training/normal/normal_001.tif"
g --seed 2 "$D/training/normal/normal_027.tif"                     # excluded by the original
g --seed 3 --xml "$D/training/lesion_annotations/tumor_001.xml" "$D/training/tumor/tumor_001.tif"
g --seed 4 --xml "$D/testing/lesion_annotations/test_001.xml" "$D/testing/images/test_001.tif"
g --seed 5 "$D/testing/images/test_002.tif"
g --seed 6 --xml "$D/testing/lesion_annotations/test_114.xml" "$D/testing/images/test_114.tif"  # excluded
printf 'test_001,Tumor,Macro\ntest_002,Normal,None\ntest_114,Tumor,Micro\n' >"$D/testing/reference.csv"

mk() { make -C "$top" --no-print-directory -s CAMELYON16="$D" WORK="$T/work" C16_LEVEL=4 C16_JOBS=1 "$@"; }
mk camelyon16-patches >"$T/log" 2>&1 || fail "make camelyon16-patches: $(cat "$T/log")"
P=$T/work/camelyon16/patches
for f in train/normal/normal_001 train/tumor/tumor_001 test/tumor/test_001 test/normal/test_002; do
  [ -s "$P/$f.ts" ] || fail "missing $f.ts"
done
[ ! -e "$P/train/normal/normal_027.ts" ] && [ ! -e "$P/test/tumor/test_114.ts" ] || fail "excluded slide processed"
ad-inspect "$P/train/tumor/tumor_001.ts" | grep -q 'labels: 1=' || fail "tumour patches not labelled 1"
ad-inspect "$P/test/normal/test_002.ts" | grep -q '50 records' || fail "test_002: expected 50 patches"
ok "per-slide streams, exclusions honoured"

mk camelyon16-splits >"$T/log" 2>&1 || fail "make camelyon16-splits: $(cat "$T/log")"
X=$T/work/camelyon16/x40
ad-inspect "$X/train.ts" | grep -q '^50 records' || fail "train split: $(ad-inspect "$X/train.ts")"
t1=$(ad-inspect "$P/test/tumor/test_001.ts" | sed -n 's/ records//p')
ad-inspect "$X/test.ts" | grep -q "^$((50 + t1)) records" || fail "test split: $(ad-inspect "$X/test.ts")"
ad-inspect "$X/test.ts" | grep -q "labels: 0=50 1=$t1" || fail "test split labels"
ok "splits: train 50 normal, test 50 normal + $t1 tumour"
before=$(stat -c %Y "$P/train/normal/normal_001.ts")
rm "$P/test/normal/test_002.ts"
mk camelyon16-patches >/dev/null 2>&1 || fail "resume"
[ "$(stat -c %Y "$P/train/normal/normal_001.ts")" = "$before" ] || fail "finished slide was redone"
[ -s "$P/test/normal/test_002.ts" ] || fail "missing slide not redone"
ok "resume redoes only what is missing"

# SPLITS: a folds folder naming patches; slides with no listed patch give empty streams.
S=$T/folds/train_test_split/camelyon16/healthy
mkdir -p "$S"/{normal,anomaly}
slide2patches --level 4 -n 7 --seed 9 --list "$D/training/normal/normal_001.tif" | sed 's/$/.jpg/' >"$S/normal/train"
slide2patches --level 4 -n 5 --seed 9 --list "$D/testing/images/test_002.tif" >"$S/normal/test"
: >"$S/anomaly/train"
slide2patches --level 4 -t tumor -a "$D/testing/lesion_annotations/test_001.xml" -n 3 --list \
  "$D/testing/images/test_001.tif" >"$S/anomaly/test" 2>/dev/null
mk camelyon16-patches WORK="$T/work2" SPLITS="$T/folds" >"$T/log" 2>&1 || fail "SPLITS run: $(cat "$T/log")"
P2=$T/work2/camelyon16/patches
ad-inspect --list "$P2/train/normal/normal_001.ts" | sed -E 's/.*\tid=([^\t]*).*/\1.jpg/' |
  cmp -s - "$S/normal/train" || fail "SPLITS: normal_001 patches differ from the list"
ad-inspect "$P2/test/tumor/test_001.ts" | grep -q '3 records' || fail "SPLITS: test_001"
ad-inspect "$P2/train/tumor/tumor_001.ts" | grep -q '^0 records' || fail "SPLITS: tumor_001 should be empty"
ok "SPLITS cuts exactly the listed patches"

make -C "$top" --no-print-directory -s camelyon16-patches CAMELYON16="$T/nothing" >"$T/out" 2>"$T/err" &&
  fail "missing data must fail"
grep -q "nothing/training/normal is missing" "$T/err" && grep -q "Download CAMELYON16" "$T/err" ||
  fail "missing-data message: $(cat "$T/err")"
ok "missing data: $(head -n 1 "$T/err")"
