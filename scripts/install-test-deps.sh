#!/usr/bin/env bash
# Installs what muster's tests run against (real peers, not mocks).
# As root on Debian it installs the missing packages with apt-get, running
# "apt-get update" once first. Otherwise it lists what is missing; under
# CI=true a missing package is an error.
set -euo pipefail

# Debian package -> a file it provides, to tell whether it is installed.
declare -A provides=(
  [ocsinventory-agent]=/usr/bin/ocsinventory-agent
)

missing=()
for pkg in "${!provides[@]}"; do
  [ -e "${provides[$pkg]}" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "install-test-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "install-test-deps: missing ${missing[*]} (run 'make test' as root on Debian to install them)" >&2
if [ "${CI:-}" = true ]; then
  exit 1
fi
