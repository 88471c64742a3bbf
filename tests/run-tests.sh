#!/usr/bin/env bash
# Runs every test of `make test` and ends with "N passed, N failed, N skipped".
# TESTS_ONLY=lint|unit|asan|cli|pipeline|fuzz runs one group. Shell tests exit 0
# (pass), 77 (skip, with the reason on stdout) or anything else (fail).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export ADKIT_TOP=$top
export PATH="$top/bin:$top/build/gen:$PATH"
export ADKIT_SHARED=${ADKIT_SHARED:-$top/../shared}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
only=${TESTS_ONLY:-}
pass=0 fail=0 skip=0 failed=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/adkit-tests.XXXXXX")

run_one() { # group name command...
  local group=$1 name=$2; shift 2
  local log="$logdir/${group}-${name//\//_}.log" t0=$SECONDS rc
  ( "$@" ) >"$log" 2>&1; rc=$?
  local dt=$((SECONDS - t0))
  if [ $rc -eq 0 ]; then pass=$((pass + 1)); printf 'PASS %-8s %s (%ss)\n' "$group" "$name" "$dt"
  elif [ $rc -eq 77 ]; then skip=$((skip + 1)); printf 'SKIP %-8s %s: %s\n' "$group" "$name" "$(tail -n 1 "$log")"
  else fail=$((fail + 1)); failed+=("$group $name"); printf 'FAIL %-8s %s (exit %s)\n' "$group" "$name" "$rc"
    sed 's/^/    | /' "$log" | tail -n 40; fi
}

want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

if want lint; then run_one lint banned-calls bash tests/lint.sh; fi
if want unit; then for t in build/unit/test_*; do [ -x "$t" ] && run_one unit "$(basename "$t")" "$t"; done; fi
if want asan; then for t in build/asan/unit/test_*; do [ -x "$t" ] && run_one asan "$(basename "$t")" "$t"; done; fi
if want cli; then for t in tests/cli/*.sh; do [ -f "$t" ] && run_one cli "$(basename "$t" .sh)" bash "$t"; done; fi
if want pipeline; then for t in tests/pipeline/*.sh; do [ -f "$t" ] && run_one pipeline "$(basename "$t" .sh)" bash "$t"; done; fi
if want fuzz; then
  for f in build/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    n=$(basename "$f"); seeds="tests/fuzz/seeds/${n#fuzz_}"
    corpus=$(mktemp -d "$logdir/corpus.XXXXXX")
    [ -d "$seeds" ] && cp "$seeds"/* "$corpus"/ 2>/dev/null
    # A fixed number of runs with a fixed seed keeps `make test` repeatable.
    run_one fuzz "$n" "$f" -runs="${FUZZ_RUNS:-20000}" -seed=1 -max_len=65536 "$corpus"
  done
fi
rm -rf "$logdir"
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
