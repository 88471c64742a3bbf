#!/usr/bin/env bash
# auroc: help, metrics against sklearn on tied data, stdin vs file, bad
# inputs, the ROC plot, and bootstrap determinism.
. "$(dirname "$0")/../lib.sh"
check_help auroc

# Hand-checked case: ranks with one tie between classes.
# anomalies 0.9, 0.5 ; normals 0.5, 0.1, 0.2 -> U = 3 + 2.5 = 5.5 of 6.
printf 'id\tlabel\tscore\na\t1\t0.9\nb\t1\t0.5\nc\t0\t0.5\nd\t0\t0.1\ne\t0\t0.2\n' >"$T/small.tsv"
auroc --format tsv "$T/small.tsv" >"$T/small.out" || fail "auroc small"
auc=$(awk -F'\t' 'NR==2{print $5}' "$T/small.out")
awk -v a="$auc" 'BEGIN{exit !(a > 0.9166666 && a < 0.9166667)}' || fail "small AUROC $auc != 11/12"
ok "hand-computed AUROC 11/12"

# Columns in another order, extra columns, --higher-is-normal reverses.
printf 'score\textra\tlabel\tid\n-0.9\tx\t1\ta\n-0.5\tx\t1\tb\n-0.5\ty\t0\tc\n-0.1\ty\t0\td\n-0.2\tz\t0\te\n' >"$T/rev.tsv"
auroc --format tsv --higher-is-normal "$T/rev.tsv" | awk -F'\t' 'NR==2{print $5}' | grep -q '^0.91666666666' ||
  fail "--higher-is-normal or column order"
ok "column order and --higher-is-normal"

# stdin and a file give the same bytes (name column aside).
auroc "$T/small.tsv" | tail -n +2 >"$T/a.txt"
auroc <"$T/small.tsv" | tail -n +2 >"$T/b.txt"
same_file "$T/a.txt" "$T/b.txt"
ok "stdin = file"

# Bad inputs: exit 1, the file and line in the message, nothing on stdout.
printf 'id\tlabel\tscore\na\t1\t0.9\nb\t2\t0.5\n' >"$T/badlabel.tsv"
expect_fail 1 "badlabel.tsv:line 3: label '2'" auroc "$T/badlabel.tsv"
printf 'id\tlabel\tscore\na\t1\t0.9\nb\t0\tabc\n' >"$T/nonnum.tsv"
expect_fail 1 "nonnum.tsv:line 3: score 'abc' is not a number" auroc "$T/nonnum.tsv"
printf 'id\tlabel\tscore\na\t1\t0.9\nb\t0\tnan\n' >"$T/nan.tsv"
expect_fail 1 "nan.tsv:line 3: score is NaN" auroc "$T/nan.tsv"
printf 'id\tlabel\tscore\na\t1\t0.9\nb\t0\n' >"$T/short.tsv"
expect_fail 1 "short.tsv:line 3: .*score" auroc "$T/short.tsv"
printf 'id\tlabel\tscore\na\t1\t0.9\nb\t0\t\n' >"$T/empty.tsv"
expect_fail 1 "empty.tsv:line 3: missing score" auroc "$T/empty.tsv"
printf 'id\tlabel\tvalue\na\t1\t0.9\n' >"$T/nocol.tsv"
expect_fail 1 "nocol.tsv:line 1: no column named 'score'" auroc "$T/nocol.tsv"
printf 'id\tlabel\tscore\na\t1\t0.9\nb\t1\t0.3\n' >"$T/oneclass.tsv"
expect_fail 1 "oneclass.tsv: only one class" auroc "$T/oneclass.tsv"
expect_fail 2 "format" auroc --format xml "$T/small.tsv"
expect_fail 2 "one input" auroc --roc "$T/x.png" "$T/small.tsv" "$T/small.tsv"

# ROC plot: a PNG appears; a failure leaves none.
auroc --roc "$T/roc.png" "$T/small.tsv" >/dev/null || fail "--roc"
[ "$(head -c 8 "$T/roc.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "roc.png is not a PNG"
ok "--roc writes a PNG"
expect_fail 1 "gnuplot is not installed" env PATH=/nonexistent "$(command -v auroc)" --roc "$T/none.png" "$T/small.tsv"
[ ! -e "$T/none.png" ] || fail "a PNG was left behind without gnuplot"
ls -A "$T" | grep -q '^\.none' && fail "a temporary PNG was left behind"

# Bootstrap: same seed, same interval, whatever the thread count.
auroc --bootstrap 300 --seed 5 -j 1 "$T/small.tsv" >"$T/b1.txt"
auroc --bootstrap 300 --seed 5 -j 2 "$T/small.tsv" >"$T/b2.txt"
same_file "$T/b1.txt" "$T/b2.txt"
grep -q '95% CI' "$T/b1.txt" || fail "no interval printed"
ok "bootstrap deterministic across -j"

# Against sklearn on random data with many ties (skipped without sklearn).
if /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
  /usr/bin/python3 - "$T" <<'PY' || fail "python reference"
import sys, numpy as np
from sklearn.metrics import roc_auc_score, average_precision_score
t = sys.argv[1]
rng = np.random.RandomState(3)
for k in range(3):
    n = 4000
    y = (rng.rand(n) < 0.3).astype(int)
    s = np.round(rng.randn(n) + 0.8 * y, 1)   # about 80 distinct values: many ties
    with open(f"{t}/r{k}.tsv", "w") as f:
        f.write("id\tlabel\tscore\n")
        for i in range(n):
            f.write(f"x{i}\t{y[i]}\t{s[i]!r}\n")
    with open(f"{t}/r{k}.ref", "w") as f:
        f.write(f"{roc_auc_score(y, s)!r}\t{average_precision_score(y, s)!r}\n")
PY
  for k in 0 1 2; do
    auroc --format tsv "$T/r$k.tsv" | awk -F'\t' 'NR==2{print $5"\t"$8}' >"$T/r$k.got"
    paste "$T/r$k.got" "$T/r$k.ref" | awk -F'\t' '{d1=$1-$3; d2=$2-$4; if (d1<0) d1=-d1; if (d2<0) d2=-d2;
      if (d1 > 1e-9 || d2 > 1e-9) { print "mismatch: " $0; exit 1 } }' || fail "differs from sklearn (r$k)"
  done
  ok "AUROC and AUPR equal sklearn's to 1e-9 on tied data"
else
  echo "sklearn not installed: reference comparison skipped"
fi
exit 0
