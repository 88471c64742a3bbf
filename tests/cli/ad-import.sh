# ad-import: Fashion-MNIST (real, when installed), synthetic MNIST IDX,
# CIFAR-10 batches, SVHN .mat, class folders and lists; each checked against
# numpy reading the source files and our stream (tests/tsread.py), and every
# kind of corrupt input.
. "$(dirname "$0")/../lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export PYTHONPATH="$TOP/tests${PYTHONPATH:+:$PYTHONPATH}"
PY=/usr/bin/python3
$PY -c 'import numpy' 2>/dev/null || skip "python3-numpy is not installed"

check_help ad-import
expect_fail 2 "unknown data set" ad-import imagenet
expect_fail 2 "no data set" ad-import
expect_fail 2 "needs --root" ad-import cifar10
expect_fail 2 "split takes train or test" ad-import fashion-mnist --split valid
expect_fail 2 "takes one folder" ad-import folder

# ---- MNIST IDX, synthetic: 30 images of 28x28 and 30 labels.
mkdir -p "$T/mnist"
$PY - "$T/mnist" <<'PY'
import gzip, struct, sys
import numpy as np
root = sys.argv[1]
rng = np.random.default_rng(1)
for prefix, n in (("train", 30), ("t10k", 12)):
    img = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    lab = (np.arange(n) * 7 % 10).astype(np.uint8)
    with gzip.open(f"{root}/{prefix}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + img.tobytes())
    with gzip.open(f"{root}/{prefix}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + lab.tobytes())
PY
# Compares a stream with the IDX files: pixels, labels, id and index.
check_idx() { # root prefix dataset split stream
  $PY - "$@" <<'PY' || fail "stream $5 differs from the IDX files in $1"
import gzip, sys
import numpy as np, tsread
root, prefix, ds, split, stream = sys.argv[1:]
def idx(name, skip):
    path = f"{root}/{prefix}-{name}-ubyte.gz"
    return np.frombuffer(gzip.open(path).read()[skip:], np.uint8)
img = idx("images-idx3", 16).reshape(-1, 28, 28)
lab = idx("labels-idx1", 8)
n = 0
for i, (meta, a) in enumerate(tsread.records(stream)):
    assert a.shape == (1, 28, 28) and a.dtype == np.uint8
    assert (a[0] == img[i]).all(), f"pixels of {i}"
    assert int(meta["label"]) == lab[i] and int(meta["index"]) == i
    assert meta["id"] == f"{ds}-{split}-{i}", meta["id"]
    n += 1
assert n == len(img), (n, len(img))
PY
}
ad-import mnist --root "$T/mnist" -o "$T/m.ts" || fail "mnist import"
check_idx "$T/mnist" train mnist train "$T/m.ts"
ad-import mnist --root "$T/mnist" --split test > "$T/mt.ts" || fail "mnist test import"
check_idx "$T/mnist" t10k mnist test "$T/mt.ts"
ok "synthetic MNIST matches numpy"
# The same bytes through stdout and -o.
ad-import mnist --root "$T/mnist" > "$T/m2.ts" && same_file "$T/m.ts" "$T/m2.ts"
# Uncompressed IDX files are read too.
mkdir -p "$T/plain" && for f in "$T"/mnist/*.gz; do gunzip -c "$f" > "$T/plain/$(basename "$f" .gz)"; done
ad-import mnist --root "$T/plain" -o "$T/m3.ts" && same_file "$T/m.ts" "$T/m3.ts"
ok "stdout, -o and plain IDX give the same bytes"

# Corrupt IDX inputs: error naming the file, exit 1, no output file.
bad_idx() { # regex: run on $T/bad, expecting failure
  expect_fail 1 "$1" ad-import mnist --root "$T/bad" -o "$T/bad.ts"
  [ ! -e "$T/bad.ts" ] || fail "output file left behind"
}
fresh_bad() { rm -rf "$T/bad"; cp -r "$T/mnist" "$T/bad"; }
fresh_bad; head -c 9000 "$T/mnist/train-images-idx3-ubyte.gz" > "$T/bad/train-images-idx3-ubyte.gz"
bad_idx "bad/train-images-idx3-ubyte.gz: truncated"
fresh_bad; gunzip -c "$T/mnist/train-images-idx3-ubyte.gz" | head -c 10000 | gzip > "$T/bad/train-images-idx3-ubyte.gz"
bad_idx "bad/train-images-idx3-ubyte.gz: truncated pixel data"
fresh_bad; gunzip -c "$T/mnist/train-labels-idx1-ubyte.gz" | { printf '\0\0\x08\x03'; tail -c +5; } | gzip > "$T/bad/train-labels-idx1-ubyte.gz"
bad_idx "train-labels-idx1-ubyte.gz: not an IDX label file"
fresh_bad; gunzip -c "$T/mnist/train-labels-idx1-ubyte.gz" > "$T/raw"
printf '\x0c' | dd of="$T/raw" bs=1 seek=20 conv=notrunc 2>/dev/null; gzip -c "$T/raw" > "$T/bad/train-labels-idx1-ubyte.gz"
bad_idx "train-labels-idx1-ubyte.gz: label 12 out of range 0..9 at index 12"
fresh_bad; gunzip -c "$T/mnist/t10k-labels-idx1-ubyte.gz" | gzip > "$T/bad/train-labels-idx1-ubyte.gz"
bad_idx "12 labels for 30 images"
fresh_bad; { gunzip -c "$T/mnist/train-images-idx3-ubyte.gz"; printf 'x'; } | gzip > "$T/bad/train-images-idx3-ubyte.gz"
bad_idx "more data than the header announces"
fresh_bad; rm "$T/bad/train-labels-idx1-ubyte.gz"
bad_idx "bad/train-labels-idx1-ubyte.gz: No such file"

# ---- CIFAR-10 binary batches: 5 train batches of 3..7 records, a test batch.
mkdir -p "$T/cifar/cifar-10-batches-bin"
$PY - "$T/cifar/cifar-10-batches-bin" <<'PY'
import sys
import numpy as np
rng = np.random.default_rng(2)
names = [f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"]
for k, name in enumerate(names):
    n = 3 + k
    rec = rng.integers(0, 256, (n, 3073), dtype=np.uint8)
    rec[:, 0] = (np.arange(n) + k) % 10
    rec.tofile(f"{sys.argv[1]}/{name}")
PY
check_cifar() { # dir split stream
  $PY - "$@" <<'PY' || fail "stream $3 differs from the CIFAR batches"
import sys
import numpy as np, tsread
d, split, stream = sys.argv[1:]
names = [f"data_batch_{k}.bin" for k in range(1, 6)] if split == "train" else ["test_batch.bin"]
rec = np.concatenate([np.fromfile(f"{d}/{n}", np.uint8).reshape(-1, 3073) for n in names])
got = list(tsread.records(stream))
assert len(got) == len(rec), (len(got), len(rec))
for i, (meta, a) in enumerate(got):
    assert a.shape == (3, 32, 32)
    assert (a.reshape(-1) == rec[i, 1:]).all(), f"pixels of {i}"
    assert int(meta["label"]) == rec[i, 0] and meta["id"] == f"cifar10-{split}-{i}"
PY
}
ad-import cifar10 --root "$T/cifar" -o "$T/c.ts" || fail "cifar import"
check_cifar "$T/cifar/cifar-10-batches-bin" train "$T/c.ts"
ad-import cifar10 --root "$T/cifar/cifar-10-batches-bin" --split test -o "$T/ct.ts" || fail "cifar test import"
check_cifar "$T/cifar/cifar-10-batches-bin" test "$T/ct.ts"
ok "synthetic CIFAR-10 matches numpy (train = batches 1..5 in order)"
cp -r "$T/cifar/cifar-10-batches-bin" "$T/cbad"
head -c 5000 "$T/cifar/cifar-10-batches-bin/data_batch_3.bin" > "$T/cbad/data_batch_3.bin"
expect_fail 1 "cbad/data_batch_3.bin: size 5000 bytes is not a whole number of 3073-byte records" \
  ad-import cifar10 --root "$T/cbad" -o "$T/bad.ts"
[ ! -e "$T/bad.ts" ] || fail "output file left behind"
cp "$T/cifar/cifar-10-batches-bin/data_batch_3.bin" "$T/cbad/"
printf '\x0a' | dd of="$T/cbad/data_batch_4.bin" bs=1 seek=3073 conv=notrunc 2>/dev/null
expect_fail 1 "data_batch_4.bin: label 10 out of range 0..9 at record 1" ad-import cifar10 --root "$T/cbad"
rm "$T/cbad/data_batch_5.bin"
expect_fail 1 "data_batch_5.bin: No such file" ad-import cifar10 --root "$T/cbad"

# ---- SVHN .mat written by gen_svhn_mat: pixel order and the 10 -> 0 labels.
mkdir -p "$T/svhn"
gen_svhn_mat "$T/svhn/train_32x32.mat" 23 || fail "gen_svhn_mat"
ad-import svhn --root "$T/svhn" -o "$T/s.ts" || fail "svhn import"
$PY - "$T/s.ts" <<'PY' || fail "SVHN stream differs from the generator's formula"
import sys
import numpy as np, tsread
c, y, x = np.meshgrid(np.arange(3), np.arange(32), np.arange(32), indexing="ij")
n = 0
for i, (meta, a) in enumerate(tsread.records(sys.argv[1])):
    assert (a == (7 * y + 3 * x + 50 * c + 11 * i) % 256).all(), f"pixels of {i}"
    assert int(meta["label"]) == (i % 10 + 1) % 10 and meta["id"] == f"svhn-train-{i}"
    n += 1
assert n == 23, n
PY
ok "synthetic SVHN: column-major X read as (C, H, W), label 10 -> 0"
gen_svhn_mat "$T/svhn/test_32x32.mat" 12 --bad-label
expect_fail 1 "svhn/test_32x32.mat: label 11 out of range 1..10 at index 11" ad-import svhn --root "$T/svhn" --split test
gen_svhn_mat "$T/svhn/test_32x32.mat" 12 --no-y
expect_fail 1 "test_32x32.mat: no variable 'y'" ad-import svhn --root "$T/svhn" --split test
echo "not a mat file at all, just some text to fill the header of one...................................." > "$T/svhn/test_32x32.mat"
expect_fail 1 "svhn/test_32x32.mat: " ad-import svhn --root "$T/svhn" --split test -o "$T/bad.ts"
[ ! -e "$T/bad.ts" ] || fail "output file left behind"

# ---- Class folders and lists.
mkdir -p "$T/pat/tumor" "$T/pat/normal"
ad-import cifar10 --root "$T/cifar" --split test | stream2img -o "$T/pat/normal" || fail "stream2img"
ad-import mnist --root "$T/mnist" --split test | stream2img -o "$T/pat/tumor" || fail "stream2img"
ad-import folder "$T/pat" -o "$T/f.ts" -j 2 || fail "folder import"
$PY - "$T/f.ts" <<'PY' || fail "folder stream"
import sys, tsread
got = list(tsread.records(sys.argv[1]))
assert len(got) == 8 + 12, len(got)
for i, (m, a) in enumerate(got):
    normal = i < 8
    assert m["class_name"] == ("normal" if normal else "tumor") and m["label"] == ("0" if normal else "1"), m
    assert m["index"] == str(i) and a.shape == ((3, 32, 32) if normal else (1, 28, 28))
assert got[0][0]["id"] == "cifar10-test-0" and got[8][0]["source"].endswith("tumor/mnist-test-0.png")
PY
ok "folder: normal = 0 first, tumor = 1, class_name and index"
(cd "$T/pat" && ls normal/*.png | head -n 3 && printf 'tumor/mnist-test-1.png\t5\n') > "$T/list.txt"
ad-import list --root "$T/pat" "$T/list.txt" -o "$T/l1.ts" || fail "list import"
ad-import list --root "$T/pat" - < "$T/list.txt" > "$T/l2.ts" || fail "list import from stdin"
same_file "$T/l1.ts" "$T/l2.ts"
ad-inspect --list "$T/l1.ts" | tail -n 1 | grep -q "label=5" || fail "list label column"
ok "list from a file and from stdin give the same bytes"
$PY -c "
import sys, numpy as np
from PIL import Image
Image.fromarray(np.array([[0, 257 * 9, 65535]], np.uint16), 'I;16').save(sys.argv[1])" "$T/g16.png"
echo "$T/g16.png" | ad-import list - | ad-inspect --list --stats | grep -q "u8	1x1x3	min=0 max=255 mean=88	id=g16" ||
  fail "16-bit list image is not u8 0, 9, 255"
ok "16-bit images become u8"
printf 'tumor/nothere.png\n' >> "$T/list.txt"
expect_fail 1 "nothere.png: No such file" ad-import list --root "$T/pat" "$T/list.txt" -o "$T/bad.ts"
[ ! -e "$T/bad.ts" ] || fail "output file left behind"

# ---- Fashion-MNIST as installed by the Debian package dataset-fashion-mnist.
[ -f "$FMNIST/train-images-idx3-ubyte.gz" ] || skip "Fashion-MNIST not installed at $FMNIST (all else passed)"
ad-import fashion-mnist --root "$FMNIST" -o "$T/fm.ts" || fail "fashion-mnist train"
ad-inspect "$T/fm.ts" > "$T/fm.txt"
grep -q "^60000 records" "$T/fm.txt" || fail "train count: $(cat "$T/fm.txt")"
for k in 0 1 2 3 4 5 6 7 8 9; do grep -q " $k=6000\b" "$T/fm.txt" || fail "class $k count"; done
check_idx "$FMNIST" train fashion-mnist train "$T/fm.ts"
ad-import fashion-mnist --split test | ad-inspect | grep -q "^10000 records" || fail "test count"
ok "Fashion-MNIST: 60000 train (6000 per class), 10000 test, pixels equal numpy's"
