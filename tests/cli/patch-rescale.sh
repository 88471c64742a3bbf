#!/usr/bin/env bash
# patch-rescale: help, file vs stdin, --x20/--x10 vs --factor, -j, bad input,
# and bit-exactness against SciPy + scikit-image (skimage_rescale_ref.py).
. "$(dirname "$0")/../lib.sh"
check_help patch-rescale

gen-he-patches --count 3 --size 96 --seed 5 > "$T/in.ts" || fail "gen-he-patches"
patch-rescale --factor 2 "$T/in.ts" > "$T/a.ts" || fail "file input"
patch-rescale --factor 2 < "$T/in.ts" > "$T/b.ts" || fail "stdin input"
same_file "$T/a.ts" "$T/b.ts"; ok "file and stdin give the same bytes"
patch-rescale -f 4 -o "$T/c.ts" - < "$T/in.ts" || fail "-o"
patch-rescale --x20 "$T/x20.ts" --x10 "$T/x10.ts" "$T/in.ts" || fail "--x20/--x10"
same_file "$T/a.ts" "$T/x20.ts"; same_file "$T/c.ts" "$T/x10.ts"; ok "one pass gives both factors"
patch-rescale -j 1 -f 4 "$T/in.ts" > "$T/j1.ts" && patch-rescale -j 2 -f 4 "$T/in.ts" > "$T/j2.ts" || fail "-j"
same_file "$T/j1.ts" "$T/j2.ts"; same_file "$T/j1.ts" "$T/c.ts"; ok "-j 1 and -j 2 agree"
ad-inspect --list "$T/x10.ts" | grep -q "3x24x24.*downscale=4" || fail "x10 shape or metadata"
ok "shapes and metadata"

expect_fail 2 "cannot be combined" patch-rescale --factor 2 --x20 "$T/o.ts" "$T/in.ts"
expect_fail 2 "between 2 and 32" patch-rescale --factor 1 "$T/in.ts"
head -c 1000 "$T/in.ts" > "$T/trunc.ts"
expect_fail 1 "truncated" patch-rescale --x20 "$T/t20.ts" --x10 "$T/t10.ts" "$T/trunc.ts"
[ ! -e "$T/t20.ts" ] && [ ! -e "$T/t10.ts" ] || fail "output left behind after a failure"
gen-he-patches --count 1 --size 50 > "$T/odd.ts"
expect_fail 1 "multiples.*record 1" patch-rescale --factor 4 -o "$T/odd_out.ts" "$T/odd.ts"
[ ! -e "$T/odd_out.ts" ] || fail "output left behind after a failure"

# Against SciPy's gaussian_filter on uint8 + scikit-image's warp (0.16 rule).
if /usr/bin/python3 -c 'import scipy.ndimage, skimage.transform' 2>/dev/null; then
  gen-he-patches --count 1 --size 192 --seed 9 > "$T/ref_in.ts"
  for f in 2 4; do
    patch-rescale -f $f "$T/ref_in.ts" > "$T/ref_out.ts" || fail "rescale $f"
    /usr/bin/python3 "$(dirname "$0")/skimage_rescale_ref.py" $f "$T/ref_in.ts" "$T/ref_out.ts" ||
      fail "differs from the scikit-image reference (factor $f)"
  done
  ok "matches the SciPy/scikit-image reference"
else
  echo "note: scipy/skimage not installed; reference comparison skipped"
fi
