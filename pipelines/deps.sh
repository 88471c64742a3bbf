#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are not installed yet.
# Used by `make deps`; says plainly what to run when not root.
set -u
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "deps: all ${#} packages are installed"; exit 0; }
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=sudo; else
    echo "deps: not root; run: sudo apt-get install ${missing[*]}" >&2; exit 1; fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || { echo "deps: apt-get update failed" >&2; exit 1; }
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
  echo "deps: apt-get install failed for: ${missing[*]}" >&2; exit 1; }
echo "deps: installed ${#missing[@]} packages"
