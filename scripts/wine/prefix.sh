#!/usr/bin/env bash
# Makes a throwaway Wine prefix that runs muster.exe: wineboot, then the
# stub bcryptprimitives.dll (built here with mingw) in system32.
# Usage: scripts/wine/prefix.sh PREFIX-DIR
set -euo pipefail
prefix=${1:?usage: prefix.sh PREFIX-DIR}
here=$(cd "$(dirname "$0")" && pwd)
for tool in wine wineboot x86_64-w64-mingw32-gcc; do
  command -v "$tool" >/dev/null || { echo "wine prefix: $tool is missing (scripts/install-test-deps.sh installs it)" >&2; exit 1; }
done
mkdir -p "$prefix"
export WINEPREFIX=$(cd "$prefix" && pwd) WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
dll="$WINEPREFIX/bcryptprimitives.dll"
x86_64-w64-mingw32-gcc -shared -O2 -o "$dll" "$here/bcryptprimitives.c" -ladvapi32 -Wl,--kill-at
wineboot --init >/dev/null 2>&1
wineserver -w
cp "$dll" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
echo "$WINEPREFIX"
