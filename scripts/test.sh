#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need when it is missing,
# builds, and runs every suite against real processes (fleetd, OpenSSH sshd, network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: sshd and ssh for members, ip for network namespaces.
need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v ip >/dev/null || need+=(iproute2)
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
