#!/usr/bin/env bash
# Builds the muster agent's MSI (packaging/windows/muster-agent.wxs) with
# wixl from Debian's msitools: muster.exe for windows/amd64, installed in
# Program Files\muster, with the muster-agent service.
# Usage: scripts/build-msi.sh OUT.msi [VERSION]
# With MSI_SIGN_CERT and MSI_SIGN_KEY (PEM files) set, the MSI is signed
# with osslsigncode.
set -euo pipefail
out=${1:?usage: build-msi.sh OUT.msi [VERSION]}
version=${2:-0.1.0}
# MSI versions are major.minor.build, each a number (255.255.65535 at most).
[[ $version =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,5})$ ]] || { echo "build-msi: version $version: want major.minor.build, e.g. 0.1.0" >&2; exit 1; }
# The same version zero-padded, so the startup script (cmd) can compare
# versions as strings.
versionkey=$(printf '%03d.%03d.%05d' "$((10#${BASH_REMATCH[1]}))" "$((10#${BASH_REMATCH[2]}))" "$((10#${BASH_REMATCH[3]}))")
root=$(cd "$(dirname "$0")/.." && pwd)
command -v wixl >/dev/null || { echo "build-msi: wixl is missing (apt-get install wixl msitools)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && GOOS=windows GOARCH=amd64 ${GO:-go} build -ldflags "-X main.version=$version" -o "$work/muster.exe" ./cmd/muster)
cp "$root/packaging/windows/muster-agent.wxs" "$work/"
# wixl resolves File/@Source from the current directory, and prints GLib
# noise on stderr: keep it for when the build fails.
if ! (cd "$work" && wixl -a x64 -D Version="$version" -D VersionKey="$versionkey" -D Exe=muster.exe -o agent.msi muster-agent.wxs 2>wixl.log); then
  cat "$work/wixl.log" >&2
  exit 1
fi
if [ -n "${MSI_SIGN_CERT:-}" ] && [ -n "${MSI_SIGN_KEY:-}" ]; then
  osslsigncode sign -certs "$MSI_SIGN_CERT" -key "$MSI_SIGN_KEY" -n "muster agent" -in "$work/agent.msi" -out "$work/signed.msi" >/dev/null
  mv "$work/signed.msi" "$work/agent.msi"
fi
mkdir -p "$(dirname "$out")"
mv "$work/agent.msi" "$out"
echo "$out"
