#!/usr/bin/env bash
# nih-resize against the original's Pillow loop (tests/bench/nih_resize_ref.py:
# open, convert('L'), resize((300, 300), BILINEAR), save) on the same
# generated 1024x1024 NIH-like PNGs, at the same thread/process count.
# BENCH_NIH_IMAGES sets the number of images (default 64).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${BENCH_NIH_IMAGES:-64}
jobs=$(nproc)
T=$(mktemp -d "${TMPDIR:-/tmp}/adkit-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
command -v nih-resize >/dev/null && command -v gen-nih >/dev/null || { echo "build first: make all"; exit 1; }
gen-nih -o "$T/nih" -n "$n" -s 1024 --seed 1 >/dev/null || exit 1
files=("$T/nih/images"/*.png)

seconds() { # command... -> wall seconds
  local t0 t1
  t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }; t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }'
}

have_pil=0
/usr/bin/python3 -c 'import PIL' 2>/dev/null && have_pil=1
printf '%-34s %8s %10s %10s\n' "run ($n images 1024x1024)" threads "images/s" "vs Pillow"
for j in 1 "$jobs"; do
  ref=""
  if [ $have_pil -eq 1 ]; then
    rm -rf "$T/ref"
    s=$(seconds /usr/bin/python3 "$top/tests/bench/nih_resize_ref.py" -j "$j" "$T/ref" "${files[@]}") || exit 1
    ref=$(awk -v n="$n" -v s="$s" 'BEGIN { printf "%.6f", n / s }')
    printf '%-34s %8s %10.1f %10s\n' "Pillow loop (original)" "$j" "$ref" "1.0x"
  fi
  for level in 1 6; do
    rm -rf "$T/out"
    s=$(seconds nih-resize -j "$j" --png-level "$level" -o "$T/out" "${files[@]}") || exit 1
    ips=$(awk -v n="$n" -v s="$s" 'BEGIN { printf "%.6f", n / s }')
    ratio=-
    [ -n "$ref" ] && ratio=$(awk -v a="$ips" -v b="$ref" 'BEGIN { printf "%.1fx", a / b }')
    printf '%-34s %8s %10.1f %10s\n' "nih-resize --png-level $level" "$j" "$ips" "$ratio"
  done
done
[ $have_pil -eq 1 ] || echo "(python3-pil not installed: no reference timings)"
