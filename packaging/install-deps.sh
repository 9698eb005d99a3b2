#!/usr/bin/env bash
# Installs every Debian 12 package Kestrel needs to build, run and test.
# Usage: packaging/install-deps.sh [--test]   (--test adds what the test suite and the demo site need)
# Needs root (or sudo); safe to run again.
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
build_pkgs=(
  build-essential cmake pkg-config ca-certificates
  libpoco-dev libyaml-cpp-dev libcurl4-openssl-dev libcppunit-dev
  libxml2-dev libsqlite3-dev libpng-dev libjpeg-dev libgif-dev libwebp-dev libidn2-dev libpq-dev
  libssl-dev
)
# The demo site (GIMP manual on a private nginx) and the independent checks of the tests
# (promtool, from prometheus, checks /metrics).
test_pkgs=(
  nginx-light gimp-help-en sqlite3 procps time curl
  python3 python3-pil postgresql clang libclang-rt-14-dev iproute2 haproxy
  prometheus etcd-server etcd-client
)
pkgs=("${build_pkgs[@]}")
[ "${1:-}" = "--test" ] && pkgs+=("${test_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
