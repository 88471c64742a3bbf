# Pretrained networks: loading a PyTorch checkpoint, VGG-19 features
# (ad-features --tap r31) with 1 and 2 threads beside the same computation in
# PyTorch, and SqueezeNet 1.1 inference. Python figures exclude `import torch`
# (timed inside the script); adkit figures are whole processes.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export PATH="$top/bin:$top/build/gen:$PATH"
SHARED=${ADKIT_SHARED:-$top/../shared}
W="$SHARED/weights"
T=$(mktemp -d "${TMPDIR:-/tmp}/adkit-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
N=${BENCH_FEATURES_IMAGES:-64}
[ -f "$W/vgg19-normalised-conv3_1.pth" ] || { echo "(no $W: nothing to measure)"; exit 0; }
have_torch=0
$PY -c 'import torch, numpy' 2>/dev/null && have_torch=1

secs() { # command... -> wall seconds of one run
  local t0 t1
  t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; echo nan; return; }
  t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l | xargs printf '%.3f'
}
row() { printf '%-52s %10s %12s %10s\n' "$@"; }
ratio() { [ "$2" = "-" ] && echo "-" || echo "$2 / $1" | bc -l | xargs printf '%.1fx'; }
row "task" "adkit s" "pytorch s" "ratio"

synth-images "$N" 3 64 64 1 "$T/img64.ts"
: > "$T/empty.ts"
# Loading the checkpoint and building the network (no image).
a=$(secs ad-features --weights "$W/vgg19-normalised-conv3_1.pth" --tap r31 "$T/empty.ts")
p=-
[ $have_torch = 1 ] && p=$($PY -c "
import time, torch
t = time.perf_counter(); sd = torch.load('$W/vgg19-normalised-conv3_1.pth'); print('%.3f' % (time.perf_counter() - t))")
row "load vgg19-normalised-conv3_1.pth (2.2 MB)" "$a" "$p" "$(ratio "$a" "$p")"

for j in 1 2; do
  a=$(secs ad-features -j $j --weights "$W/vgg19-normalised-conv3_1.pth" --tap r31 -b 16 "$T/img64.ts")
  p=-
  [ $have_torch = 1 ] && p=$($PY - "$T/img64.ts" "$W/vgg19-normalised-conv3_1.pth" $j <<'PY'
import sys, time
import numpy as np, struct, torch, torch.nn.functional as F
torch.set_num_threads(int(sys.argv[3]))
imgs = []
with open(sys.argv[1], 'rb') as f:  # tensor stream: 56-byte header, metadata, payload, CRC
    while h := f.read(56):
        dims = struct.unpack('<4Q', h[8:40])[:h[6]]
        nbytes, nmeta = struct.unpack('<QI', h[40:52])
        f.read(nmeta); imgs.append(np.frombuffer(f.read(nbytes), np.uint8).reshape(dims)); f.read(4)
sd = torch.load(sys.argv[2])
t = time.perf_counter()
with torch.no_grad():
    for i in range(0, len(imgs), 16):
        x = torch.tensor(np.stack(imgs[i:i + 16])).float() / 255
        h = F.conv2d(x, sd['0.weight'], sd['0.bias'])
        for k in ('2', '5', 'P', '9', '12', 'P', '16'):
            h = F.max_pool2d(h, 2) if k == 'P' else F.relu(F.conv2d(h, sd[k + '.weight'], sd[k + '.bias'], padding=1))
print('%.3f' % (time.perf_counter() - t))
PY
)
  row "vgg19 r31 of $N images 3x64x64, -j $j" "$a" "$p" "$(ratio "$a" "$p")"
done

if [ -f "$W/squeezenet_v1.1.bin" ]; then
  synth-images 32 3 227 227 2 "$T/img227.ts"
  for j in 1 2; do
    a=$(secs ad-features -j $j --net squeezenet --weights "$W/squeezenet_v1.1.param" --tap prob "$T/img227.ts")
    row "squeezenet prob of 32 images 3x227x227, -j $j" "$a" "-" "-"
  done
fi
