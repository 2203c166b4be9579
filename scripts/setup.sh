#!/usr/bin/env bash
# Sets up callwright on Debian/Ubuntu: Chromium (plus the lab's SIP peers with --lab),
# the npm packages and the build. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(chromium)
if [[ "${1:-}" == "--lab" ]]; then
  # tshark: test/integration/wire-timings.test.ts captures the lab's WebSocket on lo to check reported timings against the wire.
  # prometheus, prometheus-pushgateway: test/integration/pushgateway-prometheus.test.ts pushes sharded runs through both.
  # Their packages enable services; where systemd runs, stop them if 9090/9091 must stay free (the tests use free ports).
  # coturn: the lab's TURN relay (turnserver, started by `callwright lab up` with its own config); its service is stopped below.
  # iptables, python3: impaired networks for roles (NFQUEUE rules, helpers/impairer.py; docs/network.md).
  packages+=(kamailio kamailio-websocket-modules kamailio-tls-modules rtpengine-daemon sip-tester baresip openssl iproute2 nftables iptables python3 libxml2-utils tshark prometheus prometheus-pushgateway coturn)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "setup: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install ${missing[*]} (no apt-get here); without a system Chromium puppeteer downloads its own" >&2
  fi
fi

# Debian's coturn enables a system TURN server on 0.0.0.0:3478 (the lab's default TURN port) where
# systemd runs; without systemd (containers) installing it starts nothing. The lab runs its own.
if [[ "${1:-}" == "--lab" && -d /run/systemd/system ]] && systemctl is-enabled --quiet coturn 2>/dev/null; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "setup: stopping and disabling the system coturn service (the lab starts its own on 127.0.0.1)"
  $sudo systemctl disable --now coturn
fi

# .puppeteerrc.cjs skips puppeteer's browser download when a system Chromium exists.
npm ci --no-audit --no-fund
npm run build
