#!/usr/bin/env bash
# nih-resize against the original's Pillow loop (tests/bench/nih_resize_ref.py:
# open, convert('L'), resize((300, 300), BILINEAR), save) on the same
# generated 1024x1024 NIH-like PNGs, at the same thread/process count.
# BENCH_NIH_IMAGES sets the number of images (default 64). Reported: images/s
# (wall clock) and CPU milliseconds per image (user + sys).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${BENCH_NIH_IMAGES:-64}
jobs=$(nproc)
T=$(mktemp -d "${TMPDIR:-/tmp}/adkit-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
command -v nih-resize >/dev/null && command -v gen-nih >/dev/null || { echo "build first: make all"; exit 1; }
gen-nih -o "$T/nih" -n "$n" -s 1024 --seed 1 >/dev/null || exit 1
files=("$T/nih/images"/*.png)

timed() { # command... -> "wall_seconds cpu_seconds" (cpu: user + sys, children included)
  local out TIMEFORMAT='%R %U %S'
  out=$( { time "$@" >/dev/null 2>&1 || echo "failed"; } 2>&1 ) || return 1
  case "$out" in *failed*) echo "failed: $*" >&2; return 1 ;; esac
  awk '{ printf "%.6f %.6f", $1, $2 + $3 }' <<<"$out"
}

# images/s from wall time; CPU milliseconds (user + sys) per image, which
# depends much less on what else the machine is running.
row() { # label threads "wall cpu" [reference images/s]
  local ips ms ratio=-
  ips=$(awk -v n="$n" -v s="${3% *}" 'BEGIN { printf "%.6f", n / s }')
  ms=$(awk -v n="$n" -v c="${3#* }" 'BEGIN { printf "%.2f", 1000 * c / n }')
  [ -n "${4:-}" ] && ratio=$(awk -v a="$ips" -v b="$4" 'BEGIN { printf "%.1fx", a / b }')
  printf '%-34s %8s %10.1f %10s %12s\n' "$1" "$2" "$ips" "$ratio" "$ms"
  RATE=$ips
}

have_pil=0
/usr/bin/python3 -c 'import PIL' 2>/dev/null && have_pil=1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
printf '%-34s %8s %10s %10s %12s\n' "run ($n images 1024x1024)" threads "images/s" "vs Pillow" "CPU ms/img"
for j in 1 "$jobs"; do
  ref=""
  if [ $have_pil -eq 1 ]; then
    rm -rf "$T/ref"
    t=$(timed /usr/bin/python3 "$top/tests/bench/nih_resize_ref.py" -j "$j" "$T/ref" "${files[@]}") || exit 1
    row "Pillow loop (original)" "$j" "$t"; ref=$RATE
  fi
  for level in 1 6; do
    rm -rf "$T/out"
    t=$(timed nih-resize -j "$j" --png-level "$level" -o "$T/out" "${files[@]}") || exit 1
    row "nih-resize --png-level $level" "$j" "$t" "$ref"
  done
done
[ $have_pil -eq 1 ] || echo "(python3-pil not installed: no reference timings)"
