#!/usr/bin/env bash
# ad-select: help, selection by label/ids/indexes (text and .npy), list
# order, relabelling, shuffle determinism, missing entries, bad input.
. "$(dirname "$0")/../lib.sh"
check_help ad-select
command -v gen-labelled >/dev/null || skip "gen-labelled not built"

gen-labelled --count 30 --classes 3 >"$T/in.ts"
ids_of() { ad-inspect --list "$1" | sed -n 's/.*id=\([^\t]*\).*/\1/p' | tr '\n' ' '; }

ad-select --label 2 "$T/in.ts" >"$T/l2.ts"
[ "$(ids_of "$T/l2.ts")" = "img2 img5 img8 img11 img14 img17 img20 img23 img26 img29 " ] || fail "--label 2: $(ids_of "$T/l2.ts")"
ad-select --label 2 <"$T/in.ts" >"$T/l2b.ts"
same_file "$T/l2.ts" "$T/l2b.ts"
ok "--label, file = stdin"
ad-select --label 0,1 --invert "$T/in.ts" >"$T/inv.ts"
same_file "$T/l2.ts" "$T/inv.ts"
ok "--invert"

# Ids with image extensions in the list; stream order by default, list order on request.
printf 'img7.png\nimg3.jpg\n\nimg12\n' >"$T/ids.txt"
[ "$(ids_of <(ad-select --ids "$T/ids.txt" "$T/in.ts"))" = "img3 img7 img12 " ] || fail "--ids stream order"
[ "$(ids_of <(ad-select --ids "$T/ids.txt" --list-order "$T/in.ts"))" = "img7 img3 img12 " ] || fail "--list-order"
ok "--ids and --list-order"

# Indexes: text and .npy give the same; index metadata counts, not position.
printf '4\n0\n9\n' >"$T/idx.txt"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  /usr/bin/python3 -c "import numpy as np; np.save('$T/idx.npy', np.array([4, 0, 9], dtype=np.int64))"
  ad-select --indexes "$T/idx.npy" --list-order "$T/in.ts" >"$T/npy.ts"
  ad-select --indexes "$T/idx.txt" --list-order "$T/in.ts" >"$T/txt.ts"
  same_file "$T/npy.ts" "$T/txt.ts"
  ok "--indexes .npy = text"
fi
[ "$(ids_of <(ad-select --indexes "$T/idx.txt" "$T/in.ts"))" = "img0 img4 img9 " ] || fail "--indexes"
ad-select --label 1 "$T/in.ts" >"$T/l1.ts" # indexes 1 4 7 ... kept in metadata
[ "$(ids_of <(ad-select --indexes "$T/idx.txt" --allow-missing "$T/l1.ts"))" = "img4 " ] || fail "index metadata"
gen-labelled --count 5 --no-index >"$T/noidx.ts"
[ "$(ids_of <(ad-select --indexes <(printf '3\n') "$T/noidx.ts"))" = "img3 " ] || fail "position without index"
ok "--indexes use the index metadata, else the position"

# Relabelling for one-class experiments.
ad-select --normal 1 --head 3 "$T/in.ts" | ad-inspect --list >"$T/relabel.txt"
grep -q 'id=img1	index=1	class=1	label=0' "$T/relabel.txt" || fail "--normal: $(cat "$T/relabel.txt")"
grep -q 'id=img2	index=2	class=2	label=1' "$T/relabel.txt" || fail "--normal anomaly"
[ "$(wc -l <"$T/relabel.txt")" -eq 3 ] || fail "--head 3"
ok "--normal and --head"

# Shuffle: same seed, same bytes; another seed, another order; all records kept.
ad-select --shuffle --seed 4 "$T/in.ts" >"$T/s1.ts"
ad-select --shuffle --seed 4 "$T/in.ts" >"$T/s2.ts"
ad-select --shuffle --seed 5 "$T/in.ts" >"$T/s3.ts"
same_file "$T/s1.ts" "$T/s2.ts"
cmp -s "$T/s1.ts" "$T/s3.ts" && fail "seeds 4 and 5 gave the same order"
[ "$(ad-inspect "$T/s1.ts" | head -n 1)" = "30 records" ] || fail "shuffle lost records"
ok "--shuffle deterministic"

# Missing entries: exit 1, no output (file or stdout), unless --allow-missing.
printf 'img1\nimg99\n' >"$T/missing.txt"
expect_fail 1 "1 of the 2 ids in .*missing.txt never appear in the input \(first: 'img99', line 2\)" \
  ad-select --ids "$T/missing.txt" "$T/in.ts"
expect_fail 1 "never appear" ad-select --ids "$T/missing.txt" -o "$T/out.ts" "$T/in.ts"
[ ! -e "$T/out.ts" ] || fail "output left behind"
printf '2\n30\n' >"$T/range.txt"
expect_fail 1 "out of range .*first: 30 at line 2" ad-select --indexes "$T/range.txt" "$T/in.ts"
[ "$(ids_of <(ad-select --ids "$T/missing.txt" --allow-missing "$T/in.ts"))" = "img1 " ] || fail "--allow-missing"
ok "missing entries"

# Bad lists, bad streams, bad usage.
printf '1\n1\n' >"$T/dup.txt"
expect_fail 1 "dup.txt:line 2: duplicate index 1" ad-select --indexes "$T/dup.txt" "$T/in.ts"
printf '1\nx\n' >"$T/nonint.txt"
expect_fail 1 "nonint.txt:line 2: 'x' is not an integer index" ad-select --indexes "$T/nonint.txt" "$T/in.ts"
printf '\223NUMPY\001\000\010\000{bad}   ' >"$T/bad.npy"
expect_fail 1 "bad.npy: " ad-select --indexes "$T/bad.npy" "$T/in.ts"
head -c 100 "$T/in.ts" >"$T/trunc.ts"
expect_fail 1 "trunc.ts" ad-select --label 1 -o "$T/o2.ts" "$T/trunc.ts"
[ ! -e "$T/o2.ts" ] || fail "output left behind after a bad stream"
expect_fail 2 "needs --ids or --indexes" ad-select --list-order "$T/in.ts"
expect_fail 2 "both come from standard input" ad-select --ids - <"$T/in.ts"
expect_fail 2 "not an integer|invalid|head" ad-select --head x "$T/in.ts"
exit 0
