#!/usr/bin/env bash
# Installs what muster's tests run against (real peers, not mocks).
# As root on Debian it installs the missing packages with apt-get, running
# "apt-get update" once first, without letting any package start a service.
# Otherwise it lists what is missing; under CI=true that is an error.
set -euo pipefail

# Debian package -> a file it provides, to tell whether it is installed.
declare -A provides=(
  [ocsinventory-agent]=/usr/bin/ocsinventory-agent  # the real OCS Unix agent
  [iproute2]=/usr/sbin/ip                           # test bed: namespaces, veth, bridges
  [nftables]=/usr/sbin/nft                          # test bed: MAC rewriting, loss
  [openssh-server]=/usr/sbin/sshd                   # test bed: real sshd per host
  [openssh-client]=/usr/bin/ssh
  [arp-scan]=/usr/sbin/arp-scan                     # independent ARP oracle, discover anchor
  [iputils-ping]=/usr/bin/ping
  [ethtool]=/usr/sbin/ethtool                       # test bed: offloads off for delay relays
  [nmap]=/usr/bin/nmap                               # discover benchmark anchor
  [pssh]=/usr/bin/parallel-ssh                       # push benchmark anchor
  [curl]=/usr/bin/curl                               # push pull mode on sh hosts
  [ieee-data]=/usr/share/ieee-data/oui.csv          # vendors: go generate ./discover, --vendors
  [python3-winrm]=/usr/lib/python3/dist-packages/winrm/__init__.py  # independent WinRM client: emulator fidelity
  [krb5-kdc]=/usr/sbin/krb5kdc                      # a real KDC on loopback: Kerberos logons over WinRM
  [krb5-admin-server]=/usr/sbin/kadmin.local
  [nodejs]=/usr/bin/node                            # runs the real PowerShell grammar (scripts/psgrammar)
  [npm]=/usr/bin/npm
  [wine]=/usr/bin/wine                              # a Windows for tests: muster.exe, its SCM, msiexec, WMI
  [wine64]=/usr/lib/wine/wine64
  [msitools]=/usr/bin/msiinfo                       # MSI tools (wixl builds the agent's MSI)
  [wixl]=/usr/bin/wixl
  [gcc-mingw-w64-x86-64]=/usr/bin/x86_64-w64-mingw32-gcc  # builds the Wine prefix's stub bcryptprimitives.dll
  [dante-server]=/usr/sbin/danted                   # a real SOCKS4/SOCKS5 proxy for the agent's /PROXY_TYPE=2,3
  [osslsigncode]=/usr/bin/osslsigncode             # signs the MSI (make msi with MSI_SIGN_CERT/KEY); verified in a test
  [openssl]=/usr/bin/openssl
  [fusioninventory-agent]=/usr/bin/fusioninventory-agent  # the second stock agent the server must take unchanged
  [haproxy]=/usr/sbin/haproxy                       # a real load balancer in front of server replicas (started per test)
  [chromium]=/usr/bin/chromium                      # the web console's browser e2e (driven by npm playwright-core)
  [postgresql]=/usr/lib/postgresql/15/bin/postgres  # the store conformance suite's second backend (started per test, never the distribution's cluster)
)

# npmdeps DIR MARKER WHAT: npm ci in DIR (pinned by its package-lock.json,
# no install scripts) unless MARKER (a path under DIR) is there already.
npmdeps() {
  local dir="$1" marker="$2" what="$3"
  [ -e "$dir/$marker" ] && return 0
  if command -v npm >/dev/null; then
    (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null) && return 0
  fi
  echo "install-test-deps: could not install $what (npm ci in $dir)" >&2
  [ "${CI:-}" = true ] && exit 1
  return 0
}

# The PowerShell grammar (npm tree-sitter-powershell on web-tree-sitter),
# and playwright-core, which drives Debian's chromium through the console
# (never a downloaded browser).
jsdeps() {
  local here
  here="$(dirname "$0")"
  npmdeps "$here/psgrammar" node_modules/tree-sitter-powershell/tree-sitter-powershell.wasm "the PowerShell grammar"
  npmdeps "$here/../internal/e2e/console" node_modules/playwright-core/package.json playwright-core
}

missing=()
for pkg in "${!provides[@]}"; do
  [ -e "${provides[$pkg]}" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  jsdeps
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "install-test-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Never start services (sshd on the root namespace's port 22, …).
  policy=/usr/sbin/policy-rc.d
  created=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created=1
  fi
  trap '[ -n "$created" ] && rm -f "$policy"' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  jsdeps
  exit 0
fi

echo "install-test-deps: missing ${missing[*]} (run 'make test' as root on Debian to install them)" >&2
if [ "${CI:-}" = true ]; then
  exit 1
fi
