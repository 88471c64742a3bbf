#!/usr/bin/env bash
# Rejects calls that the style guide bans outside their wrappers:
# atoi/atof/strtol family (use cli_parse_* or checked parsers), sprintf,
# strcpy, strcat anywhere; exit() and printf() in libcommon.
set -u
cd "$(dirname "$0")/.."
bad=0
report() { echo "lint: $1"; bad=1; }
while IFS= read -r hit; do report "$hit: banned call"; done < <(
  grep -nE '\b(atoi|atof|atol|sprintf|vsprintf|strcpy|strcat|gets)\s*\(' libcommon/*.c libcommon/*.h tools/*.c 2>/dev/null |
  grep -v 'lint-allow')
while IFS= read -r hit; do report "$hit: exit/printf in libcommon"; done < <(
  grep -nE '(^|[^_a-z])(exit|printf|puts|abort)\s*\(' libcommon/*.c 2>/dev/null |
  grep -vE 'lint-allow|fprintf|snprintf|vsnprintf|vfprintf' | grep -v '^libcommon/cli.c')
while IFS= read -r hit; do report "$hit: strtol family outside checked parsers"; done < <(
  grep -nE '\bstr(tol|toll|toul|toull|tod|tof)\s*\(' libcommon/*.c tools/*.c 2>/dev/null | grep -v 'lint-allow' |
  grep -vE '^libcommon/(cli|tstream|parse)\.c')
[ $bad -eq 0 ] && echo "lint: clean"
exit $bad
