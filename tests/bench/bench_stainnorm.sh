#!/usr/bin/env bash
# Throughput of stainnorm (Vahadane, Macenko, Reinhard) and patch-rescale on
# synthetic 768x768 H&E patches, and of the Python reference of the
# original Vahadane code (stainnorm_ref.py) when numpy and scikit-learn are
# installed. Prints wall time and CPU time (user + system) per patch: on a
# busy machine the CPU time of the 1-thread runs is the steadier figure.
# BENCH_PATCHES (default 16) sets the number of patches.
set -u
T=$(mktemp -d "${TMPDIR:-/tmp}/adkit-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=${BENCH_PATCHES:-16}
jobs=$(nproc)
here=$(dirname "$0")
gen-he-patches --count "$n" --size 768 --seed 1 > "$T/p.ts"
gen-he-patches --count 1 --size 2048 --seed 9 --h-scale 1.3 > "$T/target.ts"
stream2img -o "$T/t" "$T/target.ts"
stainnorm --target "$T/t/he_0.png" --fit-only -o "$T/v.stain"
for m in macenko reinhard; do stainnorm --target "$T/t/he_0.png" -m $m --fit-only -o "$T/$m.stain"; done

calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }

# measure LABEL THREADS CMD...: one table row; leaves the times in $wall/$cpu.
measure() {
  local label=$1 threads=$2; shift 2
  local TIMEFORMAT='%R %U %S' t
  t=$( { time "$@" > /dev/null 2>&1; } 2>&1 ) || { echo "$label: failed"; return 1; }
  read -r wall u s <<< "$t"
  cpu=$(calc "$u + $s")
  printf '%-46s %7s %10.2f %12.1f %12.1f\n' "$label" "$threads" "$(calc "$n / $wall")" \
    "$(calc "1000 * $wall / $n")" "$(calc "1000 * $cpu / $n")"
}

printf '%-46s %7s %10s %12s %12s\n' "command ($n patches 768x768)" threads patches/s "wall ms/p" "cpu ms/p"
measure "stainnorm (vahadane)" 1 stainnorm -s "$T/v.stain" -j 1 "$T/p.ts"; v1cpu=$cpu v1wall=$wall
measure "stainnorm (vahadane)" "$jobs" stainnorm -s "$T/v.stain" -j "$jobs" "$T/p.ts"
for m in macenko reinhard; do
  measure "stainnorm --method $m" 1 stainnorm -s "$T/$m.stain" -j 1 "$T/p.ts"
done
measure "patch-rescale --x20 --x10" 1 patch-rescale --x20 "$T/x20.ts" --x10 "$T/x10.ts" -j 1 "$T/p.ts"
measure "patch-rescale --x20 --x10" "$jobs" patch-rescale --x20 "$T/x20.ts" --x10 "$T/x10.ts" -j "$jobs" "$T/p.ts"

if /usr/bin/python3 -c 'import numpy, sklearn' 2>/dev/null; then
  gen-he-patches --count 2 --size 768 --seed 1 > "$T/p2.ts"
  ref=$(/usr/bin/python3 "$here/stainnorm_ref.py" "$T/target.ts" "$T/p2.ts" | awk '/seconds_per_patch/ {print $2}')
  printf '%-46s %7s %10.2f %12.1f %12s\n' "stainnorm_ref.py (sklearn, 1 s learning limit)" 1 \
    "$(calc "1 / $ref")" "$(calc "1000 * $ref")" "-"
  printf 'Vahadane per patch, 1 thread: reference / stainnorm = %.0fx (wall / wall), %.0fx (wall / CPU)\n' \
    "$(calc "$ref * $n / $v1wall")" "$(calc "$ref * $n / $v1cpu")"
  echo "(the original's SPAMS learning stops after 1 s of wall time, so it needs >= 1 s per patch)"
else
  echo "numpy/scikit-learn not installed: Python reference skipped"
fi
