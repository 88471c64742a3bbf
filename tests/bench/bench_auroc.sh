#!/usr/bin/env bash
# auroc throughput: reading, sorting and all metrics of 1M and 10M scores
# (TSV from gen-scores, 3 decimals so ties abound); the bootstrap per
# resample; and sklearn's metrics on in-memory arrays of the same size when
# it is installed (its time excludes reading the file, so the ratio favours it).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export PATH="$top/bin:$top/build/gen:$PATH"
command -v auroc >/dev/null && command -v gen-scores >/dev/null || { echo "bench_auroc: build first (make)"; exit 0; }
T=$(mktemp -d "${TMPDIR:-/tmp}/adkit-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null || return 1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
printf '%-10s %12s %16s %18s\n' scores "auroc (s)" "bootstrap/res (s)" "sklearn mem (s)"
for n in 1000000 10000000; do
  gen-scores --count $n --digits 3 --seed 1 >"$T/s.tsv"
  a=$(secs auroc "$T/s.tsv")
  b=$(secs auroc --bootstrap 10 --seed 1 "$T/s.tsv")
  per=$(echo "scale=3; ($b - $a) / 10" | bc)
  sk=-
  if /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
    sk=$(/usr/bin/python3 - $n <<'PY'
import sys, time, numpy as np
from sklearn.metrics import roc_auc_score, average_precision_score
n = int(sys.argv[1]); rng = np.random.RandomState(1)
y = (rng.rand(n) < 0.3).astype(int); s = np.round(rng.randn(n) + y, 3)
t = time.time(); roc_auc_score(y, s); average_precision_score(y, s); print("%.3f" % (time.time() - t))
PY
)
  fi
  printf '%-10s %12.3f %16s %18s\n' $n "$a" "$per" "$sk"
done
