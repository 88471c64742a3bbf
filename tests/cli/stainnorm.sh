#!/usr/bin/env bash
# stainnorm: help, targets (image, slide region, saved file), file vs stdin,
# -j 1 vs -j 2, the three methods, patches without tissue, bad input.
. "$(dirname "$0")/../lib.sh"
check_help stainnorm

gen-he-patches --count 3 --size 128 --seed 2 > "$T/p.ts" || fail "gen-he-patches"
gen-he-patches --count 1 --size 256 --seed 7 --h-scale 1.4 --e-scale 0.8 > "$T/tgt.ts" || fail "target"
stream2img -o "$T/img" "$T/tgt.ts" || fail "stream2img"
TARGET=$T/img/he_0.png

stainnorm --target "$TARGET" --fit-only -o "$T/v.stain" || fail "--fit-only"
head -n 1 "$T/v.stain" | grep -qx "adkit-stain 1" && grep -qx "method vahadane" "$T/v.stain" || fail "target file"
stainnorm --target-stain "$T/v.stain" "$T/p.ts" > "$T/a.ts" || fail "file input"
stainnorm --target-stain "$T/v.stain" < "$T/p.ts" > "$T/b.ts" || fail "stdin input"
same_file "$T/a.ts" "$T/b.ts"; ok "file and stdin give the same bytes"
stainnorm --target "$TARGET" -o "$T/c.ts" "$T/p.ts" || fail "--target"
same_file "$T/a.ts" "$T/c.ts"; ok "a saved target gives the same bytes as fitting it again"
stainnorm -s "$T/v.stain" -j 1 "$T/p.ts" > "$T/j1.ts" && stainnorm -s "$T/v.stain" -j 2 "$T/p.ts" > "$T/j2.ts" ||
  fail "-j"
same_file "$T/j1.ts" "$T/j2.ts"; same_file "$T/j1.ts" "$T/a.ts"; ok "-j 1 and -j 2 agree"
ad-inspect --list "$T/a.ts" | grep -c "3x128x128.*stain=vahadane" | grep -qx 3 || fail "shape or stain metadata"
cmp -s "$T/a.ts" "$T/p.ts" && fail "output equals input"
ok "metadata"

for m in macenko reinhard; do
  stainnorm --target "$TARGET" --method $m --fit-only -o "$T/$m.stain" || fail "fit $m"
  grep -qx "method $m" "$T/$m.stain" || fail "$m target file"
  stainnorm -s "$T/$m.stain" -j 2 "$T/p.ts" > "$T/$m.ts" || fail "$m"
  stainnorm --target "$TARGET" -m $m -j 1 "$T/p.ts" > "$T/$m.2.ts" || fail "$m direct"
  same_file "$T/$m.ts" "$T/$m.2.ts"
  ad-inspect --list "$T/$m.ts" | grep -c "stain=$m" | grep -qx 3 || fail "$m metadata"
done
ok "macenko and reinhard"

# Against the Python reference of the original algorithm (numpy +
# scikit-learn's online dictionary learning in place of SPAMS): the learned
# dictionaries differ slightly, the normalised pixels by about one level.
if /usr/bin/python3 -c 'import numpy, sklearn' 2>/dev/null; then
  gen-he-patches --count 1 --size 128 --seed 2 > "$T/p1.ts"
  stainnorm --target-stain "$T/v.stain" "$T/p1.ts" > "$T/p1_out.ts" || fail "one patch"
  /usr/bin/python3 "$(dirname "$0")/../bench/stainnorm_ref.py" --compare "$T/tgt.ts" "$T/p1.ts" "$T/p1_out.ts" ||
    fail "differs from the Python reference"
  ok "close to the Python reference"
else
  echo "note: numpy/scikit-learn not installed; Python reference comparison skipped"
fi

# A blank patch is copied unchanged, with a warning and stain=copied.
gen-he-patches --count 1 --size 64 --white > "$T/w.ts"
cat "$T/p.ts" "$T/w.ts" > "$T/pw.ts"
stainnorm -s "$T/v.stain" "$T/pw.ts" > "$T/pw_out.ts" 2> "$T/warn" || fail "white patch"
grep -q "record 4 id=he_0: no tissue" "$T/warn" && grep -q "1 of 4 patches had no tissue" "$T/warn" || fail "warning"
ad-inspect --list "$T/pw_out.ts" | tail -n 1 | grep -q "stain=copied" || fail "stain=copied"
stainnorm -s "$T/v.stain" "$T/w.ts" > "$T/w_out.ts" 2>/dev/null || fail "white patch alone"
stream2img -o "$T/w1" "$T/w.ts" && stream2img -o "$T/w2" "$T/w_out.ts" || fail "stream2img"
same_file "$T/w1/he_0.png" "$T/w2/he_0.png"; ok "patch without tissue copied"

# A slide region as target (a small synthetic slide).
if gen-slide --mask-level 4 --size 96x96 --compression lzw "$T/s.tif" 2>/dev/null; then
  stainnorm --target-slide "$T/s.tif" --target-region 256,256,1024,1024 --fit-only -o "$T/s.stain" ||
    fail "--target-slide"
  grep -q "^stain_h" "$T/s.stain" || fail "slide target file"
  expect_fail 1 "does not fit in the slide" stainnorm --target-slide "$T/s.tif" --fit-only -o "$T/s2.stain"
  [ ! -e "$T/s2.stain" ] || fail "target file left behind after a failure"
  ok "slide target"
else
  echo "note: gen-slide unavailable; slide target not tested"
fi

# Usage errors and bad data.
expect_fail 2 "exactly one of" stainnorm "$T/p.ts"
expect_fail 2 "exactly one of" stainnorm --target "$TARGET" --target-stain "$T/v.stain" "$T/p.ts"
expect_fail 2 "unknown --method" stainnorm --target "$TARGET" --method foo "$T/p.ts"
expect_fail 2 "contradicts" stainnorm -s "$T/v.stain" --method macenko "$T/p.ts"
expect_fail 2 "--target-region goes with" stainnorm --target "$TARGET" --target-region 0,0,1,1 "$T/p.ts"
expect_fail 2 "X,Y,W,H" stainnorm --target-slide x.tif --target-region 1,2,3 "$T/p.ts"
printf 'adkit-stain 1\nmethod vahadane\nstain_h 1 0\n' > "$T/bad.stain"
expect_fail 1 "bad.stain:3: stain_h needs 3" stainnorm -s "$T/bad.stain" "$T/p.ts"
head -c 2000 "$T/p.ts" > "$T/trunc.ts"
expect_fail 1 "trunc.ts:record 1: truncated" stainnorm -s "$T/v.stain" -o "$T/t_out.ts" "$T/trunc.ts"
[ ! -e "$T/t_out.ts" ] || fail "output left behind after a failure"
img2stream --grey "$TARGET" > "$T/grey.ts" || fail "img2stream"
expect_fail 1 "expected a u8 \(3, H, W\).*record 1" stainnorm -s "$T/v.stain" -o "$T/g_out.ts" "$T/grey.ts"
[ ! -e "$T/g_out.ts" ] || fail "output left behind after a failure"
expect_fail 1 "no-such.png" stainnorm --target "$T/no-such.png" "$T/p.ts"
