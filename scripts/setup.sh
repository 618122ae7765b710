#!/usr/bin/env bash
# Installs what faultline's tests need on a fresh Debian machine. Idempotent: it
# installs only what is missing. `faultline run` against the embedded default cluster
# needs none of this (only the Rust toolchain).
#   - etcd-server, etcd-client, redis-server, redis-sentinel, redis-tools: real subjects
#   - nftables, iptables, iproute2: network partitions and packet faults
#   - faketime / libfaketime: clock skew
#   - openssh-server, openssh-client: SSH hosts (the tests run an sshd per fake host)
#   - chromium, chromium-driver: the report's browser tests
#   - postgresql: --store postgres (faultline runs its own server as the postgres user
#     the package creates)
#   - python3: small Maelstrom nodes used by the tests (already on the machine kind)
set -euo pipefail
pkgs=(etcd-server etcd-client redis-server redis-sentinel redis-tools nftables iptables
      openssh-server openssh-client
      iproute2 faketime libfaketime chromium chromium-driver golang-go postgresql)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's packages may start services; faultline starts its own processes.
for s in etcd redis-server redis-sentinel postgresql; do
  if command -v systemctl >/dev/null 2>&1; then systemctl stop "$s" >/dev/null 2>&1 || true; fi
done
echo "setup: ok"
