#!/usr/bin/env bash
# Fashion-MNIST from the Debian package through the evaluation stages:
# ad-import -> mkfolds (class-wise CV folds) -> ad-select (fold and one-class
# sets), checked by counts and by the order of the selected indexes.
. "$(dirname "$0")/../lib.sh"
[ -e "$FMNIST/train-labels-idx1-ubyte.gz" ] || skip "Fashion-MNIST not installed ($FMNIST)"
command -v ad-import >/dev/null || skip "ad-import not built"

ad-import fashion-mnist --split train -o "$T/train.ts" || fail "import train"
ad-import fashion-mnist --split test -o "$T/test.ts" || fail "import test"
mkfolds fashion-mnist --labels "$T/train.ts" -o "$T/f" --seed 1 || fail "mkfolds"
# 6000 images per class: KFold(3) -> 2000 test, 4000 -> int(800) val, 3200 train.
mkfolds check "$T/f" | awk -F'\t' 'NR > 1 && !($2 == 3200 && $3 == 800 && $4 == 2000 && $5 == 2000) { bad = 1; print }
  END { exit bad }' || fail "fold sizes"
grep -q '^3,Dress,' "$T/f/validation_classes/fashion-mnist.csv" || fail "class names in the CSV"
ok "fold sizes 3200/800/2000/2000 for every class"

d="$T/f/folds/fashion-mnist/3/0"
ad-select --indexes "$d/train.npy" --list-order "$T/train.ts" -o "$T/train3.ts" || fail "select fold train"
[ "$(ad-inspect "$T/train3.ts" | grep labels)" = "  labels: 3=3200" ] || fail "fold train is not all class 3"
ad-select --indexes "$d/test_anomaly.npy" "$T/train.ts" | ad-inspect | grep -q '^2000 records' || fail "test_anomaly"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  /usr/bin/python3 -c "import numpy as np; print('\n'.join(map(str, np.load('$d/train.npy'))))" >"$T/want"
  ad-inspect --list "$T/train3.ts" | sed -n 's/.*index=\([0-9]*\).*/\1/p' >"$T/got"
  same_file "$T/want" "$T/got"
  ok "--list-order follows the .npy order"
fi

# The one-class test set of class 3: 1000 normal, 9000 anomalies.
ad-select --normal 3 "$T/test.ts" | ad-inspect | grep -Eq 'labels: (1=9000 0=1000|0=1000 1=9000)$' || fail "one-class test set"
ok "one-class test set"
exit 0
