#!/usr/bin/env bash
# Installs, builds and runs Kestrel's main job on the embedded default
# configuration (config/default.yaml: one node, SQLite catalog):
#   packaging/quickstart.sh [URL]
# With a URL, crawls that site. Without one, serves the GIMP manual
# (Debian's gimp-help-en) with a private nginx on loopback and crawls it.
# The catalog, images and node state go to ./kestrel-data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh --test
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2
url=${1:-}
if [ -z "$url" ]; then
  url=$(tests/fixtures/demo-site.sh start)
  trap 'tests/fixtures/demo-site.sh stop' EXIT
  echo "demo site: $url (the GIMP manual, served by nginx on loopback)"
fi
build/bin/kestreld --config config/default.yaml --data-dir ./kestrel-data --seed "$url" --once
