# ad-inspect: summaries, --list and --stats, several inputs, bad streams.
. "$(dirname "$0")/../lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export PYTHONPATH="$TOP/tests${PYTHONPATH:+:$PYTHONPATH}"
PY=/usr/bin/python3
$PY -c 'import numpy' 2>/dev/null || skip "python3-numpy is not installed"

check_help ad-inspect
expect_fail 2 "--stats goes with --list" ad-inspect --stats x.ts

$PY - "$T/a.ts" "$T/b.ts" <<'PY'
import sys
import numpy as np, tsread
a = [({"id": f"p{i}", "label": str(i % 2)}, np.full((1, 2, 3), i, np.uint8)) for i in range(5)]
a.append(({"id": "map"}, np.array([[-1.5, 0.5], [2.0, 3.0]], np.float32)))
tsread.write(sys.argv[1], a)
tsread.write(sys.argv[2], [({"name": "w"}, np.arange(6, dtype=np.int32))])
PY

ad-inspect "$T/a.ts" > "$T/sum" || fail "summary"
cat > "$T/want" <<'TXT'
6 records
  u8 1x2x3: 5
  f32 2x2: 1
  labels: 0=3 1=2 (none)=1
TXT
cmp -s "$T/sum" "$T/want" || fail "summary differs: $(cat "$T/sum")"
ad-inspect < "$T/a.ts" | cmp -s - "$T/want" || fail "stdin summary differs"
ok "summary from a file and from stdin"

ad-inspect --list --stats "$T/a.ts" > "$T/list" || fail "--list"
[ "$(wc -l < "$T/list")" -eq 6 ] || fail "--list line count"
grep -q "^3	u8	1x2x3	min=3 max=3 mean=3	id=p3	label=1$" "$T/list" || fail "--list line: $(sed -n 4p "$T/list")"
grep -q "^5	f32	2x2	min=-1.5 max=3 mean=1	id=map$" "$T/list" || fail "--stats of f32: $(sed -n 6p "$T/list")"
ok "--list --stats"

ad-inspect "$T/a.ts" "$T/b.ts" > "$T/two" || fail "two inputs"
grep -q "^$T/a.ts: 6 records" "$T/two" && grep -q "^$T/b.ts: 1 records" "$T/two" && grep -q "  i32 6: 1" "$T/two" ||
  fail "two inputs: $(cat "$T/two")"
ok "several inputs are named"

head -c 200 "$T/a.ts" > "$T/cut.ts"
ad-inspect "$T/cut.ts" "$T/b.ts" > "$T/out" 2> "$T/err"; rc=$?
[ $rc -eq 1 ] || fail "truncated input: exit $rc"
grep -Eq "cut.ts:record [0-9]+: truncated" "$T/err" || fail "message: $(cat "$T/err")"
grep -q "b.ts: 1 records" "$T/out" || fail "the good input after a bad one was not summarised"
expect_fail 1 "nothere.ts" ad-inspect "$T/nothere.ts"
ok "bad inputs: exit 1, message, the other inputs still read"
