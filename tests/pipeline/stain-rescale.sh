#!/usr/bin/env bash
# The Camelyon16 stages after patch extraction, on synthetic patches:
# fit a target once, normalise x40 patches, make x20 and x10 in one pass.
# Checks record counts, shapes, metadata, and that a second run with other
# thread counts gives the same bytes.
. "$(dirname "$0")/../lib.sh"
gen-he-patches --count 4 --size 192 --seed 3 --h-scale 0.7 > "$T/x40.ts" || fail "gen-he-patches"
gen-he-patches --count 1 --size 384 --seed 8 --h-scale 1.3 > "$T/target.ts" || fail "target"
stream2img -o "$T/t" "$T/target.ts" || fail "stream2img"
stainnorm --target "$T/t/he_0.png" --fit-only -o "$T/c16.stain" || fail "fit"
run() { # JOBS SUFFIX
  stainnorm --target-stain "$T/c16.stain" -j "$1" "$T/x40.ts" |
    patch-rescale -j "$1" --x20 "$T/x20$2.ts" --x10 "$T/x10$2.ts"
}
run 2 "" || fail "pipeline"
run 1 ".j1" || fail "pipeline -j 1"
same_file "$T/x20.ts" "$T/x20.j1.ts"; same_file "$T/x10.ts" "$T/x10.j1.ts"
ad-inspect --list "$T/x20.ts" | grep -c "u8	3x96x96	.*stain=vahadane	downscale=2" | grep -qx 4 || fail "x20 records"
ad-inspect --list "$T/x10.ts" | grep -c "u8	3x48x48	.*stain=vahadane	downscale=4" | grep -qx 4 || fail "x10 records"
ok "target fitted once, 4 patches normalised and rescaled to x20 and x10, same bytes with -j 1 and -j 2"
