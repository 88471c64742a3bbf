#!/usr/bin/env bash
# slide-heatmap on a generated slide (level 4, 48-px patches): cells land on
# the patches the scores name, in the colour map's colours, blended with the
# thumbnail; file and stdin give the same bytes; bad input fails cleanly.
. "$(dirname "$0")/../lib.sh"
command -v gen-slide >/dev/null || skip "gen-slide not built"
check_help slide-heatmap

gen-slide --mask-level 4 --size 96x84 --seed 3 --xml "$T/s.xml" "$T/s.tif" || fail "gen-slide"
slide2patches --level 4 --patch 48 -n 6 --seed 1 --list "$T/s.tif" >"$T/normal.ids" || fail "normal ids"
slide2patches --level 4 --patch 48 -n 6 --seed 1 -t tumor -a "$T/s.xml" --list "$T/s.tif" >"$T/tumor.ids" 2>/dev/null ||
  fail "tumour ids"
[ -s "$T/normal.ids" ] && [ -s "$T/tumor.ids" ] || fail "no patches on the generated slide"
{
  printf 'id\tlabel\tscore\n'
  awk '{ print $0 "\t0\t0.25" }' "$T/normal.ids"
  awk '{ print $0 "\t1\t2.5" }' "$T/tumor.ids"
  printf 'other_001_normal_x_0_y_0_w_48_h_48\t0\t99\n'      # another slide: ignored
} >"$T/scores.tsv"

# --max-side 100 picks level 4 (96x84, 16 level-0 pixels per pixel): a
# 48-px patch is a 3x3 block of thumbnail pixels.
slide-heatmap --max-side 100 -o "$T/a.png" "$T/s.tif" "$T/scores.tsv" || fail "slide-heatmap"
slide-heatmap --max-side 100 "$T/s.tif" <"$T/scores.tsv" >"$T/b.png" || fail "scores from stdin"
same_file "$T/a.png" "$T/b.png"
slide-heatmap --max-side 100 --slide-name s - <"$T/scores.tsv" 2>/dev/null && fail "'-' as the slide accepted"
slide-heatmap --max-side 100 --alpha 0 -o "$T/plain.png" "$T/s.tif" "$T/scores.tsv" || fail "alpha 0"
ok "file and stdin: same PNG"

/usr/bin/python3 - "$T" <<'EOF' || fail "cell colours"
import sys
from PIL import Image
t = sys.argv[1]
a = Image.open(t + "/a.png").convert("RGB")
plain = Image.open(t + "/plain.png").convert("RGB")
assert a.size == (96, 84), a.size
lo, hi = (68, 1, 84), (253, 231, 37)          # viridis at 0 and 1
def cells(name):
    for line in open(t + "/" + name):
        f = line.strip().split("_")
        row, col = int(f[f.index("x") + 1]), int(f[f.index("y") + 1])
        yield row // 16, col // 16
painted = {}
# Tumour cells last: where a patch is scored twice the higher score shows.
for name, colour in (("normal.ids", lo), ("tumor.ids", hi)):
    for r0, c0 in cells(name):
        for r in range(r0, r0 + 3):
            for c in range(c0, c0 + 3):
                painted[(r, c)] = colour
assert any(v == lo for v in painted.values()) and any(v == hi for v in painted.values())
for (r, c), colour in painted.items():
    want = tuple(int(0.5 * p + 0.5 * q + 0.5) for p, q in zip(plain.getpixel((c, r)), colour))
    got = a.getpixel((c, r))
    assert all(abs(g - w) <= 1 for g, w in zip(got, want)), (r, c, got, want)
for r in range(84):
    for c in range(96):
        if (r, c) not in painted:
            assert a.getpixel((c, r)) == plain.getpixel((c, r)), (r, c)
EOF
ok "normal cells low colour, tumour cells high colour, the rest untouched"
# Box-averaging level 2 by 4 gives gen-slide's own level 4 (its pyramid is
# a 2x2 mean per level, exact on this texture).
slide-heatmap --level 2 --max-side 96 --alpha 0 -o "$T/shrunk.png" "$T/s.tif" "$T/scores.tsv" || fail "--level 2"
same_file "$T/plain.png" "$T/shrunk.png"
ok "a level shrunk by 4 = the level four times smaller"

slide-heatmap --max-side 100 --legend --range 0,5 --colormap jet -o "$T/l.png" "$T/s.tif" "$T/scores.tsv" ||
  fail "legend"
/usr/bin/python3 -c "
from PIL import Image; import sys
im = Image.open(sys.argv[1]); assert im.size[0] == 96 and im.size[1] > 84, im.size" "$T/l.png" || fail "legend size"
slide-heatmap --level 3 -o "$T/l3.png" "$T/s.tif" "$T/scores.tsv" || fail "--level 3"
/usr/bin/python3 -c "
from PIL import Image; import sys
assert Image.open(sys.argv[1]).size == (192, 168)" "$T/l3.png" || fail "level 3 size"
ok "legend, --range, --colormap, --level"

# Bad input: exit 1, a message naming the file, no output file.
printf 'id\tscore\ns_normal_x_0_y_0_w_48_h_48\tabc\n' >"$T/bad-score.tsv"
expect_fail 1 'bad-score.tsv:line 2: score' slide-heatmap -o "$T/o.png" "$T/s.tif" "$T/bad-score.tsv"
printf 'id\tscore\nnot-a-patch\t1\n' >"$T/bad-id.tsv"
expect_fail 1 'bad-id.tsv:line 2: bad patch id' slide-heatmap -o "$T/o.png" "$T/s.tif" "$T/bad-id.tsv"
printf 'name\tscore\n' >"$T/no-id.tsv"
expect_fail 1 "no-id.tsv:line 1: .*'id'" slide-heatmap -o "$T/o.png" "$T/s.tif" "$T/no-id.tsv"
printf 'id\tscore\nx_normal_x_0_y_0_w_48_h_48\t1\n' >"$T/other.tsv"
expect_fail 1 'other.tsv: no scores for slide s' slide-heatmap -o "$T/o.png" "$T/s.tif" "$T/other.tsv"
expect_fail 1 'missing.tif' slide-heatmap -o "$T/o.png" "$T/missing.tif" "$T/scores.tsv"
expect_fail 1 'level 12' slide-heatmap --level 12 -o "$T/o.png" "$T/s.tif" "$T/scores.tsv"
[ ! -e "$T/o.png" ] || fail "output left behind by a failure"
ls -A "$T" | grep -q '^\.o\.png' && fail "temporary file left behind"
expect_fail 2 'alpha' slide-heatmap --alpha 2 "$T/s.tif" "$T/scores.tsv"
expect_fail 2 'range' slide-heatmap --range 3,1 "$T/s.tif" "$T/scores.tsv"
expect_fail 2 'colormap' slide-heatmap --colormap rainbow "$T/s.tif" "$T/scores.tsv"
expect_fail 2 'slide is needed' slide-heatmap
exit 0
