# Shared helpers for the shell tests (sourced). Each test gets its own
# temporary directory $T, removed at exit; tools are on PATH (run-tests.sh).
set -u
T=$(mktemp -d "${TMPDIR:-/tmp}/adkit-t.XXXXXX")
trap 'rm -rf "$T"' EXIT
SHARED=${ADKIT_SHARED:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/../shared}
FMNIST=${ADKIT_FMNIST:-/usr/share/datasets/fashion-mnist}

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }
ok() { echo "ok: $*"; }

# expect_fail CODE REGEX cmd...: the command must exit CODE, print nothing on
# stdout, and print a line matching REGEX on stderr.
expect_fail() {
  local code=$1 re=$2; shift 2
  local out rc
  out=$("$@" 2>"$T/.stderr" >"$T/.stdout"); rc=$?
  [ "$rc" -eq "$code" ] || fail "expected exit $code, got $rc: $* ($(cat "$T/.stderr"))"
  [ ! -s "$T/.stdout" ] || fail "expected empty stdout: $*"
  grep -Eq -- "$re" "$T/.stderr" || fail "stderr of '$*' does not match /$re/: $(cat "$T/.stderr")"
  ok "$* -> exit $code: $(head -n 1 "$T/.stderr")"
}

# check_help TOOL: --help prints a usage line and exits 0, --version exits 0,
# an unknown option exits 2 with empty stdout.
check_help() {
  local tool=$1
  "$tool" --help >"$T/.help" || fail "$tool --help failed"
  grep -q "^Usage: $tool" "$T/.help" || fail "$tool --help has no usage line"
  grep -q "Example" "$T/.help" || fail "$tool --help has no example"
  "$tool" --version | grep -q "$tool" || fail "$tool --version"
  expect_fail 2 "unknown option" "$tool" --no-such-option
}

same_file() { cmp -s "$1" "$2" || fail "$1 and $2 differ"; }
