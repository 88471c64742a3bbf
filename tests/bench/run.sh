#!/usr/bin/env bash
# `make bench`: runs every tests/bench/bench_*.sh in turn. Benchmarks print
# figures, never pass/fail; run them on a quiet machine.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
export PATH="$top/bin:$top/build/gen:$PATH"
export ADKIT_SHARED=${ADKIT_SHARED:-$top/../shared}
echo "adkit bench on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
status=0
for b in tests/bench/bench_*.sh; do
  [ -f "$b" ] || continue
  echo
  echo "=== $(basename "$b" .sh)"
  bash "$b" || { echo "($(basename "$b") failed)"; status=1; }
done
exit $status
