#!/usr/bin/env bash
# Convolution kernels against Debian's PyTorch on the layers of the paper's
# models (tests/bench/conv_shapes.tsv): GFLOP/s of forward, backward-input
# and backward-weight, counted as 2*N*OC*OH*OW*C*KH*KW for every algorithm,
# median of BENCH_REPS runs (default 5) after a warm-up, BENCH_THREADS
# threads (default: all cores) on both sides; ratio = ours / torch.
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for this run only, so the
# sgemm ceiling line shows what OpenBLAS's best kernel for this CPU reaches
# (the conv kernels themselves do not use OpenBLAS).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
threads=${BENCH_THREADS:-$(nproc)}
reps=${BENCH_REPS:-5}
shapes=${BENCH_SHAPES:-tests/bench/conv_shapes.tsv}
bench=build/bench/conv_bench
[ -x "$bench" ] || { echo "$bench is not built (make bench builds it)"; exit 1; }
ours=$(mktemp) theirs=$(mktemp)
trap 'rm -f "$ours" "$theirs"' EXIT

env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_PROC_BIND=${OMP_PROC_BIND:-true} \
  "$bench" -j "$threads" -r "$reps" "$shapes" >"$ours" || exit 1
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 tests/bench/conv_torch.py "$threads" "$reps" "$shapes" >"$theirs" || exit 1
else
  echo "# torch: not installed (python3-torch)" >"$theirs"
fi
grep '^#' "$ours" "$theirs" -h
awk -F'\t' '
  FNR == 1 { file++ }
  /^#/ || /^shape\t/ { next }
  file == 1 { t[$1] = $2 "\t" $3 "\t" $4; have = 1; next }
  {
    printf "%-16s %-20s", $1, sprintf("%sx%sx%sx%s>%s k%d", $2, $3, $4, $5, $6, $7)
    split(have && ($1 in t) ? t[$1] : "-\t-\t-", tt, "\t")
    for (i = 0; i < 3; i++) {
      algo = $(10 + 2 * i); g = $(11 + 2 * i); tg = tt[i + 1]
      if (!have) tg = "not installed"
      r = (tg + 0 > 0) ? sprintf("%.2fx", g / tg) : "-"
      printf " | %-8s %7.1f %7s %6s", algo, g, tg, r
    }
    printf "\n"
  }
  BEGIN {
    printf "%-16s %-20s", "shape", "NxCxHxW>OC kernel"
    split("forward,backward-input,backward-weight", p, ",")
    for (i = 1; i <= 3; i++) printf " | %-32s", p[i] ": algo ours torch ratio"
    printf "\n"
  }' "$theirs" "$ours"
