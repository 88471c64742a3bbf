#!/usr/bin/env bash
# slide2patches on generated slides, checked against gen-slide's truth:
# cell choice (tissue / tumour, border rule, counts), bytes (file vs stdin,
# -j1 vs -j2, same seed), --ids, and the failure rules.
. "$(dirname "$0")/../lib.sh"
command -v gen-slide >/dev/null || skip "gen-slide not built"
check_help slide2patches

# cells FILE: "row col" of every id (cell = 3x3 mask pixels; the id's x is
# the ROW offset, y the column offset).
cells() { sed -E 's/.*_x_([0-9]+)_y_([0-9]+)_w_([0-9]+)_h_.*/\1 \2 \3/' "$1" | awk '{print $1/$3, $2/$3}'; }
# truth_cells TRUTH CHARS: "row col" of the cells marked with one of CHARS,
# inside the area the border rule keeps (30 mask pixels = 10 cells per side;
# all generated slides are at most 700 mask pixels tall).
truth_cells() {
  awk -v chars="$2" 'NR == 1 { next } { r = NR - 2; n = length($0); rows[r] = $0; nr = r + 1 }
    END { for (r = 10; r < nr - 10; r++) for (c = 10; c < n - 10; c++)
      if (index(chars, substr(rows[r], c + 1, 1))) print r, c }' "$1"
}
ids_of() { ad-inspect --list "$1" | sed -E 's/.*\tid=([^\t]*).*/\1/'; }

# ---- the paper's geometry: level 8, L8 96x84, 768-px patches ----
gen-slide --seed 3 --xml "$T/s.xml" --truth "$T/s.truth" "$T/s.tif" || fail "gen-slide"
slide2patches --list --max-patches 100000 "$T/s.tif" >"$T/all.txt" || fail "list all"
cells "$T/all.txt" | sort >"$T/all.cells"
truth_cells "$T/s.truth" 'tT?' | sort >"$T/want.cells"
same_file "$T/all.cells" "$T/want.cells"
n=$(wc -l <"$T/want.cells")
[ "$n" -gt 50 ] || fail "generated slide has only $n candidate cells"
ok "normal candidates = the $n interior tissue cells of the truth"
slide2patches --seed 5 --list "$T/s.tif" >"$T/50.txt"
[ "$(wc -l <"$T/50.txt")" -eq 50 ] || fail "expected 50 patches"
[ -z "$(cells "$T/50.txt" | sort | comm -23 - "$T/want.cells")" ] || fail "a sampled cell is not a candidate"
grep -qvE '^s_normal_x_[0-9]+_y_[0-9]+_w_768_h_768$' "$T/50.txt" && fail "bad id format"
slide2patches --seed 6 --list "$T/s.tif" | cmp -s - "$T/50.txt" && fail "seeds 5 and 6 chose the same cells"
ok "50 of $n cells, seeded"

slide2patches -t tumor -a "$T/s.xml" --list --max-patches 100000 "$T/s.tif" 2>"$T/warn" >"$T/tum.txt" ||
  fail "tumour list"
grep -q "ignored annotation group 'Exclusion'" "$T/warn" || fail "no warning for the Exclusion group"
cells "$T/tum.txt" | sort >"$T/tum.cells"
[ -z "$(comm -23 "$T/tum.cells" <(truth_cells "$T/s.truth" 'T?' | sort))" ] || fail "tumour patch outside tumour"
[ -z "$(comm -13 "$T/tum.cells" <(truth_cells "$T/s.truth" 'T' | sort))" ] || fail "a sure tumour cell was missed"
grep -q '_tumor_x_' "$T/tum.txt" || fail "tumour ids"
ok "tumour cells: all sure ones, none outside tumour ($(wc -l <"$T/tum.txt"))"
slide2patches -t tumor -a "$T/s.xml" --mask-filter nearest --list --max-patches 100000 "$T/s.tif" 2>/dev/null |
  cells /dev/stdin | sort | comm -23 - <(truth_cells "$T/s.truth" 'T?' | sort) | grep -q . &&
  fail "nearest: tumour patch outside tumour"

# --mask-png: the mask-level masks as 8-bit grey PNGs (96x84 here).
mkdir "$T/masks"
slide2patches -t tumor -a "$T/s.xml" --list --mask-png "$T/masks" "$T/s.tif" >/dev/null 2>&1 || fail "--mask-png"
for m in tissue cells labels; do
  [ "$(od -An -tx1 -j16 -N8 "$T/masks/s_$m.png" | tr -d ' ')" = 0000006000000054 ] || fail "s_$m.png: not 96x84"
done
ok "--mask-png writes tissue, cells and labels"

# Patches: the bytes are the slide's pixels, the same every way round.
slide2patches --seed 5 -n 6 "$T/s.tif" >"$T/a.ts" || fail "extract"
echo "$T/s.tif" | slide2patches --seed 5 -n 6 >"$T/b.ts" || fail "extract from stdin"
same_file "$T/a.ts" "$T/b.ts"
slide2patches --seed 5 -n 6 -j 1 -o "$T/c.ts" "$T/s.tif" || fail "extract -j1"
same_file "$T/a.ts" "$T/c.ts"
ad-inspect "$T/a.ts" | grep -q 'u8 3x768x768: 6' || fail "6 patches of 3x768x768"
ad-inspect --list "$T/a.ts" | head -n 1 | grep -qE 'label=0.*slide=s.*x=[0-9]+.*y=[0-9]+.*level=0' || fail "metadata"
ok "file, stdin, -j1, -j2: same bytes"
slide2patches --reader openslide --seed 5 -n 6 "$T/s.tif" | cmp -s - "$T/a.ts" || fail "direct tile reads differ from OpenSlide"
gen-slide --seed 3 --compression jpeg --mask-level 4 --size 96x84 "$T/j.tif" || fail "gen jpeg"
slide2patches --level 4 -n 30 "$T/j.tif" >"$T/j1.ts" && slide2patches --reader openslide --level 4 -n 30 "$T/j.tif" |
  cmp -s - "$T/j1.ts" || fail "JPEG: direct tile reads differ from OpenSlide"
gen-slide --seed 3 --compression jpeg-rgb --mask-level 4 --size 96x84 "$T/jr.tif" || fail "gen jpeg-rgb"
slide2patches --level 4 -n 30 "$T/jr.tif" >"$T/j2.ts" && slide2patches --reader openslide --level 4 -n 30 "$T/jr.tif" |
  cmp -s - "$T/j2.ts" || fail "JPEG (RGB): direct tile reads differ from OpenSlide"
ok "direct tile reads = OpenSlide's pixels (Deflate, JPEG YCbCr, JPEG RGB)"
# Pixels: gen-slide paints tissue around (200,120,170) and tumour around
# (120,60,150) (payload means ~163 and ~110); a wrong plane order or alpha
# rule moves them.
slide2patches -t tumor -a "$T/s.xml" -n 4 "$T/s.tif" 2>/dev/null >"$T/t.ts" || fail "tumour extract"
ad-inspect --list --stats "$T/t.ts" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^mean=/) m = substr($i, 6);
  if (m < 100 || m > 120) { print "tumour patch mean " m; exit 1 } }' || fail "tumour pixels"
ad-inspect --list --stats "$T/a.ts" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^mean=/) m = substr($i, 6);
  if (m < 100 || m > 176) { print "tissue patch mean " m; exit 1 } }' || fail "tissue pixels"
ok "patch pixels look like the generated tissue"

# ---- fast geometry: level 4 (16x), 48-px patches ----
gen-slide --seed 4 --mask-level 4 --size 96x84 --truth "$T/m.truth" --xml "$T/m.xml" "$T/m.tif" || fail "gen small"
slide2patches --level 4 --patch 48 --list -n 100000 "$T/m.tif" | cells /dev/stdin | sort >"$T/m.cells"
same_file "$T/m.cells" <(truth_cells "$T/m.truth" 'tT?' | sort)
slide2patches --level 4 --seed 2 -n 20 "$T/m.tif" >"$T/m.ts" || fail "small extract"

# --ids: the listed patches, in the listed order, grouped by slide.
slide2patches --level 4 --seed 2 -n 20 --list "$T/m.tif" >"$T/m.ids"
sed 's/$/.jpg/' "$T/m.ids" >"$T/m.jpgs"
slide2patches --level 4 --ids "$T/m.jpgs" --slides-dir "$T" >"$T/m2.ts" || fail "--ids"
same_file "$T/m.ts" "$T/m2.ts"
cp "$T/m.tif" "$T/n.tif"
{ sed -n 1,3p "$T/m.ids"; sed -n 1,2p "$T/m.ids" | sed 's/^m_/n_/'; sed -n 4p "$T/m.ids"; } >"$T/mix.ids"
slide2patches --level 4 --ids "$T/mix.ids" "$T/n.tif" --slides-dir "$T" >"$T/mix.ts" || fail "--ids two slides"
ids_of "$T/mix.ts" >"$T/mix.got"
{ sed -n 1,4p "$T/m.ids"; sed -n 1,2p "$T/m.ids" | sed 's/^m_/n_/'; } | cmp -s - "$T/mix.got" ||
  fail "--ids order: $(cat "$T/mix.got")"
ok "--ids reproduces the selection and groups by slide"
# Patches in the partial last row and column of tiles (1536x1344, 256 tiles).
printf 'm_normal_x_1296_y_1488_w_48_h_48\nm_normal_x_1280_y_0_w_48_h_48\nm_normal_x_1250_y_1300_w_48_h_48\n' >"$T/edge.ids"
slide2patches --level 4 --ids "$T/edge.ids" --slides-dir "$T" >"$T/e1.ts" || fail "edge ids"
slide2patches --reader openslide --level 4 --ids "$T/edge.ids" --slides-dir "$T" | cmp -s - "$T/e1.ts" ||
  fail "edge tiles: direct reads differ from OpenSlide"
ok "edge tiles read like OpenSlide"
echo "m_normal_x_0_y_0_w_768_h_768" >"$T/bad.ids"
expect_fail 1 "bad.ids:1: patch .* is 768x768, expected 48x48" slide2patches --level 4 --ids "$T/bad.ids"
echo "not-an-id" >"$T/bad.ids"
expect_fail 1 "bad.ids:1: bad patch id 'not-an-id'" slide2patches --ids "$T/bad.ids"
echo "m_normal_x_48000_y_0_w_48_h_48" >"$T/out.ids"
expect_fail 1 "m.tif: patch m_normal_x_48000.* lies outside the slide" \
  slide2patches --level 4 --ids "$T/out.ids" --slides-dir "$T"

# The committed split lists parse (no slide is needed for --list).
list=$SHARED/folds/train_test_split/camelyon16/healthy/normal/train
if [ -f "$list" ]; then
  slide2patches --ids "$list" --list >"$T/split.txt" || fail "parsing $list"
  cmp -s <(sed 's/\.jpg$//' "$list" | sort) <(sort "$T/split.txt") || fail "split list ids differ"
  ok "the paper's normal/train list parses ($(wc -l <"$T/split.txt") ids)"
fi

# Uniform slide: no tissue, 0 patches, no crash.
gen-slide --uniform --mask-level 4 --size 60x60 "$T/u.tif" || fail "gen uniform"
slide2patches --level 4 "$T/u.tif" >"$T/u.ts" 2>"$T/u.err" || fail "uniform slide failed"
grep -q "uniform" "$T/u.err" || fail "no warning for the uniform slide"
[ ! -s "$T/u.ts" ] || fail "uniform slide gave patches"

# Black margins count as tissue, as in the original.
gen-slide --black-margin 40 --mask-level 4 --size 96x84 --truth "$T/b.truth" "$T/b.tif" || fail "gen margin"
slide2patches --level 4 --list -n 100000 "$T/b.tif" | cells /dev/stdin | sort >"$T/b.cells"
[ -z "$(comm -23 "$T/b.cells" <(truth_cells "$T/b.truth" 'tT?b' | sort))" ] || fail "margin: non-tissue cell"
[ -n "$(comm -12 "$T/b.cells" <(truth_cells "$T/b.truth" 'b' | sort))" ] || fail "margin: black cells not taken"
ok "black margin counts as tissue"

# Failures: a missing slide among good ones; the good output is complete.
slide2patches --level 4 --seed 2 -n 20 "$T/m.tif" "$T/missing.tif" "$T/n.tif" >"$T/f.ts" 2>"$T/f.err"
[ $? -eq 1 ] || fail "a missing slide must give exit 1"
grep -q "slide2patches: $T/missing.tif: No such file or directory" "$T/f.err" || fail "message: $(cat "$T/f.err")"
cat "$T/m.ts" <(slide2patches --level 4 --seed 2 -n 20 "$T/n.tif") | cmp -s - "$T/f.ts" ||
  fail "good slides' output incomplete"
ok "missing slide reported, good slides complete"
echo "not a slide" >"$T/text.tif"
expect_fail 1 "text.tif: not a slide OpenSlide can read" slide2patches -o "$T/x.ts" "$T/text.tif"
[ ! -e "$T/x.ts" ] || fail "output file left behind"
expect_fail 1 "m.tif: has 5 levels, level 8 is needed" slide2patches -o "$T/x.ts" "$T/m.tif"
[ ! -e "$T/x.ts" ] || fail "output file left behind"
# Corrupt tile data: both readers fail cleanly, naming the slide.
cp "$T/m.tif" "$T/bad.tif"
printf 'garbage!%.0s' $(seq 1 2000) |
  dd of="$T/bad.tif" bs=1 seek=$(($(stat -c %s "$T/bad.tif") * 8 / 20)) conv=notrunc status=none
expect_fail 1 "bad.tif: tile [0-9]+: .*Decoding error" slide2patches --level 4 -n 100 -o "$T/x.ts" "$T/bad.tif"
[ ! -e "$T/x.ts" ] || fail "output file left behind"
expect_fail 1 "bad.tif: " slide2patches --reader openslide --level 4 -n 100 -o "$T/x.ts" "$T/bad.tif"
[ ! -e "$T/x.ts" ] || fail "output file left behind"
printf '<ASAP_Annotations><Annotations>' >"$T/broken.xml"
expect_fail 1 "broken.xml:1: malformed XML" slide2patches --level 4 -t tumor -a "$T/broken.xml" "$T/m.tif"
printf '<ASAP_Annotations><Annotations><Annotation PartOfGroup="_0"><Coordinates><Coordinate X="99999" Y="1"/><Coordinate X="2" Y="2"/><Coordinate X="1" Y="5"/></Coordinates></Annotation></Annotations></ASAP_Annotations>' >"$T/far.xml"
expect_fail 1 "far.xml: annotation '' vertex \(99999, 1\) lies outside the slide" \
  slide2patches --level 4 -t tumor -a "$T/far.xml" "$T/m.tif"
expect_fail 2 "needs --annotations" slide2patches -t tumor "$T/m.tif"
expect_fail 2 "--patch must be 3 x 2\^level = 768" slide2patches --patch 500 "$T/m.tif"
expect_fail 2 "--type must be normal or tumor" slide2patches -t lesion "$T/m.tif"
expect_fail 2 "exactly one slide" slide2patches -t tumor -a "$T/m.xml" "$T/m.tif" "$T/n.tif"
exit 0
