# Image and data set I/O: ad-import of Fashion-MNIST, img2stream decoding
# (PNG, JPEG) with 1 and 2 threads, stream2img PNG encoding, each beside the
# same work done by Pillow/NumPy in Python where that is installed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export PATH="$top/bin:$PATH"
T=$(mktemp -d "${TMPDIR:-/tmp}/adkit-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
FMNIST=${ADKIT_FMNIST:-/usr/share/datasets/fashion-mnist}
N=${BENCH_IO_IMAGES:-200}
have_py=0
$PY -c 'import numpy, PIL' 2>/dev/null && have_py=1

secs() { # command... -> wall seconds of one run
  local t0 t1
  t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; echo nan; return; }
  t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
row() { printf '%-44s %10s %12s %10s\n' "$@"; }
row "task" "adkit s" "python s" "ratio"
ratio() { [ "$2" = "-" ] && echo "-" || awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", b / a }'; }

if [ -f "$FMNIST/train-images-idx3-ubyte.gz" ]; then
  a=$(secs ad-import fashion-mnist --root "$FMNIST" -o "$T/fm.ts")
  p=-
  # Python reference: decompress and parse the IDX files with NumPy (the
  # part of torchvision's loader that reads the data; no stream is written).
  [ $have_py = 1 ] && p=$(secs $PY -c "
import gzip, numpy as np
r='$FMNIST'
x=np.frombuffer(gzip.open(r+'/train-images-idx3-ubyte.gz').read()[16:],np.uint8).reshape(-1,28,28)
y=np.frombuffer(gzip.open(r+'/train-labels-idx1-ubyte.gz').read()[8:],np.uint8)
assert len(x)==len(y)==60000")
  row "ad-import fashion-mnist train (60000)" "$a" "$p" "$(ratio "$a" "$p")"
fi

[ $have_py = 1 ] || { echo "(python3-numpy/python3-pil missing: no image benchmarks)"; exit 0; }
mkdir -p "$T/png" "$T/jpg"
$PY - "$T" "$N" <<'PY'
import sys
import numpy as np
from PIL import Image
t, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
y, x = np.mgrid[0:256, 0:256]
for i in range(n):
    base = np.stack([(x + i) % 256, (y * 2 + i) % 256, (x + y) % 256], -1)
    im = Image.fromarray((base + rng.integers(0, 24, base.shape)).clip(0, 255).astype(np.uint8))
    im.save(f"{t}/png/{i:05d}.png")
    im.save(f"{t}/jpg/{i:05d}.jpg", quality=90)
PY
pil_decode="import sys, glob, numpy as np
from PIL import Image
for p in sorted(glob.glob(sys.argv[1] + '/*')): np.asarray(Image.open(p))"
for kind in png jpg; do
  p=$(secs $PY -c "$pil_decode" "$T/$kind")
  for j in 1 2; do
    a=$(secs img2stream -j $j "$T/$kind" -o "$T/$kind.ts")
    row "img2stream $N ${kind} 256x256 RGB, -j $j" "$a" "$p" "$(ratio "$a" "$p")"
  done
done
p=$(secs $PY -c "
import sys, glob, numpy as np
from PIL import Image
for i, p in enumerate(sorted(glob.glob(sys.argv[1] + '/png/*'))):
    Image.fromarray(np.asarray(Image.open(p))).save(f'{sys.argv[1]}/pil-{i}.png')" "$T")
for j in 1 2; do
  rm -rf "$T/out"
  a=$(secs stream2img -j $j -o "$T/out" "$T/png.ts")
  row "stream2img $N png 256x256 RGB, -j $j" "$a" "$p (+decode)" "$(ratio "$a" "$p")"
done
echo "(python column: Pillow/NumPy doing the same decoding or encoding in one process)"
