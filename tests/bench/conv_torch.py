#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Times PyTorch's CPU convolutions on the shapes of conv_shapes.tsv, as
conv_bench does for ours: forward (torch.nn.functional.conv2d, no grad),
backward to the input and backward to the weight (autograd, each alone),
GFLOP/s = 2*N*OC*OH*OW*C*KH*KW / median seconds after a warm-up.

Usage: conv_torch.py THREADS REPS SHAPES.tsv  (prints TSV on stdout)
"""
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def median_seconds(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    threads, reps, shapes = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    print("shape\tfwd_gflops\tbwd_input_gflops\tbwd_weight_gflops")
    for line in open(shapes):
        if not line.strip() or line.startswith("#"):
            continue
        name, *vals = line.split()
        n, c, h, w, oc, k, stride, pad = map(int, vals)
        oh = (h + 2 * pad - k) // stride + 1
        ow = (w + 2 * pad - k) // stride + 1
        flops = 2.0 * n * oc * oh * ow * c * k * k
        x = torch.rand(n, c, h, w) * 2 - 1
        wt = torch.rand(oc, c, k, k) * 2 - 1
        b = torch.rand(oc) * 2 - 1
        with torch.no_grad():
            fwd = median_seconds(lambda: F.conv2d(x, wt, b, stride, pad), reps)
        xg = x.clone().requires_grad_(True)
        wg = wt.clone().requires_grad_(True)
        y = F.conv2d(xg, wg, b, stride, pad)
        g = torch.rand_like(y) * 2 - 1
        bi = median_seconds(lambda: torch.autograd.grad(y, xg, g, retain_graph=True), reps)
        bw = median_seconds(lambda: torch.autograd.grad(y, wg, g, retain_graph=True), reps)
        print(f"{name}\t{flops / fwd / 1e9:.1f}\t{flops / bi / 1e9:.1f}\t{flops / bw / 1e9:.1f}", flush=True)


if __name__ == "__main__":
    main()
