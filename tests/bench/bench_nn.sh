#!/usr/bin/env bash
# The nn engine: relative perceptual L1 (VGG19 up to r42, forward and
# backward to the reconstruction, 3x64x64 images) - the cost that dominates
# DPA training - against PyTorch on the same threads when python3-torch is
# installed; and the engine's per-step overhead on a tiny net.
# BENCH_NN_BATCH (default 32) and BENCH_NN_ITERS (default 3) set the size.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
batch=${BENCH_NN_BATCH:-32} iters=${BENCH_NN_ITERS:-3} threads=${OMP_NUM_THREADS:-$(nproc)}
mkdir -p build/bench
make -s build/libcommon.a || exit 1
# Link exactly as the Makefile links the tools.
libs=$(printf 'print-libs:\n\t@echo $(LDLIBS)\n' | make -s --no-print-directory -f Makefile -f - print-libs)
cc -std=c11 -D_GNU_SOURCE -O2 -fopenmp -Ilibcommon tests/bench/nn_bench.c build/libcommon.a $libs \
  -o build/bench/nn_bench || exit 1
echo "threads: $threads"
OMP_NUM_THREADS=$threads build/bench/nn_bench perceptual "$batch" "$iters" || exit 1
OMP_NUM_THREADS=$threads build/bench/nn_bench overhead 2000 || exit 1
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 - "$batch" "$iters" "$threads" <<'PY'
import sys, time, torch
import torch.nn.functional as F
N, iters, threads = map(int, sys.argv[1:])
torch.set_num_threads(threads)
torch.manual_seed(0)
cfg = [(3, 64), (64, 64), "M", (64, 128), (128, 128), "M", (128, 256), (256, 256), (256, 256), (256, 256), "M",
       (256, 512), (512, 512)]
ws = [(torch.randn(o, i, 3, 3) * (2 / (i * 9)) ** 0.5, torch.zeros(o)) if c != "M" else None
      for c in cfg for (i, o) in [c if c != "M" else (0, 0)]]
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
fm, fv = torch.full((1, 512, 1, 1), 0.5), torch.full((1, 512, 1, 1), 2.0)
def feats(x):
    h = ((x * 0.5 + 0.5) - mean) / std
    for w in ws:
        h = F.max_pool2d(h, 2) if w is None else F.relu(F.conv2d(h, w[0], w[1], 1, 1))
    return (h - fm) / fv
x, y0 = torch.rand(N, 3, 64, 64) * 2 - 1, torch.rand(N, 3, 64, 64) * 2 - 1
for it in range(iters + 2):  # two warm-up steps, as nn_bench
    if it == 2:
        t0 = time.time()
    y = y0.clone().requires_grad_(True)
    nx, ny = feats(x), feats(y)
    loss = ((nx - ny).abs().mean(dim=(1, 2, 3)) / nx.abs().mean(dim=(1, 2, 3)).detach()).mean()
    loss.backward()
dt = time.time() - t0
print("pytorch %s same loss   batch %3d  %8.1f images/s  (%.3f s/step)" % (torch.__version__, N, N * iters / dt,
                                                                          dt / iters))
PY
else
  echo "python3-torch not installed: no PyTorch comparison"
fi
