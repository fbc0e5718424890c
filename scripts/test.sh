#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need when it is missing,
# builds, and runs every suite against real processes (fleetd, OpenSSH sshd, network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use (sshd and ssh for members, ip for network namespaces),
# listed in .ci/debian-packages with the command each provides.
need=()
while read -r pkg cmd; do
  case "$pkg" in ''|'#'*) continue ;; esac
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "$cmd" ]; then
    [[ " ${need[*]} " == *" $pkg "* ]] || need+=("$pkg")
  fi
done < .ci/debian-packages
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test: missing Debian packages: ${need[*]}; install them (as root): apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  echo "test: installing Debian packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm run build --silent
fi
npx vitest run "$@"
