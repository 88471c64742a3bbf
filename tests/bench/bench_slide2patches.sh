#!/usr/bin/env bash
# slide2patches throughput (patches/s) on generated Camelyon16-geometry
# slides (L8 96x84; JPEG tiles as in Camelyon16, then Deflate tiles, which
# OpenSlide decodes on its slower generic path), against the Python reference of the
# original's script 3 (slide2patches_ref.py) and against bare
# openslide_read_region of the same patches (OpenSlide's limit; the default
# reader decodes generic TIFF tiles directly and can beat it).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/adkit-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
command -v gen-slide >/dev/null && command -v slide2patches >/dev/null || { echo "build first (make)"; exit 1; }
mkdir -p "$top/build/bench"
reader=$top/build/bench/openslide_read
cc -O2 -fopenmp $(pkg-config --cflags openslide) "$top/tests/bench/openslide_read.c" \
  $(pkg-config --libs openslide) -o "$reader" || exit 1

# best of 3 wall-clock seconds of a command
best() {
  local b=""
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1 </dev/null || return 1; t1=$(date +%s.%N)
    b=$(echo "$t0 $t1 ${b:-1e9}" | awk '{d = $2 - $1; print (d < $3 ? d : $3)}')
  done
  echo "$b"
}
rate() { echo "$n $1" | awk '{printf "%.1f", $1 / $2}'; }

for codec in jpeg deflate; do
  gen-slide --seed 11 --compression "$codec" "$T/b.tif" || exit 1
  slide2patches --list -n 100000 "$T/b.tif" >"$T/ids.txt" || exit 1
  n=$(wc -l <"$T/ids.txt")
  cat "$T/b.tif" >/dev/null # page cache
  # Output to /dev/null: the figures are about reading, not about the disk.
  c1=$(best slide2patches -j 1 -n 100000 "$T/b.tif")
  c2=$(best slide2patches -j 2 -n 100000 "$T/b.tif")
  o2=$(best slide2patches --reader openslide -j 2 -n 100000 "$T/b.tif")
  r1=$(best "$reader" "$T/b.tif" 768 1 "$T/ids.txt")
  r2=$(best "$reader" "$T/b.tif" 768 2 "$T/ids.txt")
  printf '%-44s %10s %12s\n' "slide2patches, $n patches, $codec tiles" "seconds" "patches/s"
  printf '%-44s %10.3f %12s\n' "slide2patches -j1" "$c1" "$(rate "$c1")"
  printf '%-44s %10.3f %12s\n' "slide2patches -j2" "$c2" "$(rate "$c2")"
  printf '%-44s %10.3f %12s\n' "slide2patches --reader openslide -j2" "$o2" "$(rate "$o2")"
  printf '%-44s %10.3f %12s\n' "bare openslide_read_region, 1 thread" "$r1" "$(rate "$r1")"
  printf '%-44s %10.3f %12s\n' "bare openslide_read_region, 2 threads" "$r2" "$(rate "$r2")"
  if /usr/bin/python3 -c 'import openslide, skimage, scipy' 2>/dev/null; then
    p=$(best /usr/bin/python3 "$top/tests/bench/slide2patches_ref.py" "$T/b.tif" "$T/ref.bin" 100000)
    printf '%-44s %10.3f %12s\n' "Python reference (script 3, 1 process)" "$p" "$(rate "$p")"
    echo "$p $c2" | awk '{printf "speed-up -j2 vs Python reference: %.2fx\n", $1 / $2}'
  else
    echo "Python reference skipped (needs python3-openslide, python3-skimage)"
  fi
  echo "$r2 $c2" | awk '{printf "slide2patches -j2 vs bare OpenSlide reads -j2: %.0f%%\n", 100 * $1 / $2}'
  echo "$r2 $o2" | awk '{printf "slide2patches --reader openslide -j2 vs bare OpenSlide reads -j2: %.0f%%\n", 100 * $1 / $2}'
done
