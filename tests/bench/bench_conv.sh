#!/usr/bin/env bash
# Convolution kernels against Debian's PyTorch on the layers of the paper's
# models (tests/bench/conv_shapes.tsv): GFLOP/s of forward, backward-input
# and backward-weight, counted as 2*N*OC*OH*OW*C*KH*KW for every algorithm,
# median of BENCH_REPS runs (default 5) after a warm-up, BENCH_THREADS
# threads (default: all cores) on both sides; ratio = ours / torch.
# BENCH_ROUNDS (default 3) rounds alternate ours and torch, and each figure
# is the best of its rounds, on both sides alike: on a shared or virtual
# machine a run can lose a third of its speed to its neighbours, and the
# best of a few is what the code can do.
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for this run only, so the
# sgemm ceiling line shows what OpenBLAS's best kernel for this CPU reaches
# (the conv kernels themselves do not use OpenBLAS).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
threads=${BENCH_THREADS:-$(nproc)}
reps=${BENCH_REPS:-5}
rounds=${BENCH_ROUNDS:-3}
shapes=${BENCH_SHAPES:-tests/bench/conv_shapes.tsv}
bench=build/bench/conv_bench
[ -x "$bench" ] || { echo "$bench is not built (make bench builds it)"; exit 1; }
ours=$(mktemp) theirs=$(mktemp)
trap 'rm -f "$ours" "$theirs" "$ours".* "$theirs".*' EXIT

# best FILES...: the rounds' tables as one, each figure column (the
# numeric ones past the shape's own columns) its best over the rounds.
best() {
  awk -F'\t' -v OFS='\t' '
    /^#/ { if (FNR == NR) print; next }
    /^shape\t/ { if (FNR == NR) print; next }
    !($1 in row) { order[++n] = $1; row[$1] = $0; next }
    { split(row[$1], r, "\t")
      for (i = 2; i <= NF; i++) if ($i ~ /^[0-9.]+$/ && i > first && $i + 0 > r[i] + 0) r[i] = $i
      line = r[1]; for (i = 2; i <= NF; i++) line = line OFS r[i]; row[$1] = line }
    END { for (j = 1; j <= n; j++) print row[order[j]] }' first="$1" "${@:2}"
}
have_torch=0
/usr/bin/python3 -c 'import torch' 2>/dev/null && have_torch=1
for r in $(seq "$rounds"); do
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_PROC_BIND=${OMP_PROC_BIND:-true} \
    "$bench" -j "$threads" -r "$reps" $([ "$r" -gt 1 ] && echo --gemm-size=0) "$shapes" >"$ours.$r" || exit 1
  if [ $have_torch = 1 ]; then
    /usr/bin/python3 tests/bench/conv_torch.py "$threads" "$reps" "$shapes" >"$theirs.$r" || exit 1
  fi
done
# Ours: shape N C H W OC K stride pad, then (algo, GFLOP/s) per pass.
best 9 "$ours".* >"$ours"
if [ $have_torch = 1 ]; then
  best 1 "$theirs".* >"$theirs"
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
