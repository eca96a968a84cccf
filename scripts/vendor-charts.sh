#!/usr/bin/env bash
# Vendors TradingView's lightweight-charts (the admin's charts) from the npm registry:
# downloads the pinned tarball, checks its sha512 integrity (as in package-lock.json),
# and writes the standalone production build, its LICENSE, the upstream NOTICE and a
# README with the version and checksums into admin_ui/static/admin_ui/vendor/. No node
# is needed, here or at run time. The README is the pin: without arguments the
# script re-vendors the version it names.
# Usage: scripts/vendor-charts.sh                      (re-vendor the pinned version)
#        scripts/vendor-charts.sh VERSION INTEGRITY    (upgrade; `npm view
#        lightweight-charts@VERSION dist.integrity` gives INTEGRITY)
set -euo pipefail
cd "$(dirname "$0")/.."

build=lightweight-charts.standalone.production.js
target=admin_ui/static/admin_ui/vendor/lightweight-charts
PY=${PY:-python3}

if [ $# -eq 1 ] || [ $# -gt 2 ]; then
  echo "Usage: scripts/vendor-charts.sh [VERSION INTEGRITY]" >&2
  exit 2
fi
pinned() { sed -n "s/^- $1: //p" "$target/README.md" 2>/dev/null; }
version=${1:-$(pinned version)}
integrity=${2:-$(pinned integrity)}
if [ -z "$version" ] || [ -z "$integrity" ]; then
  echo "No pin in $target/README.md: give VERSION and INTEGRITY." >&2
  exit 2
fi
url="https://registry.npmjs.org/lightweight-charts/-/lightweight-charts-$version.tgz"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "Downloading $url"
curl --fail --silent --show-error --location --max-time 120 -o "$work/package.tgz" "$url"

actual="sha512-$("$PY" -c 'import base64, hashlib, sys
print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' \
  "$work/package.tgz")"
if [ "$actual" != "$integrity" ]; then
  echo "Integrity mismatch for $url:" >&2
  echo "  expected $integrity" >&2
  echo "  got      $actual" >&2
  exit 1
fi

tar -xzf "$work/package.tgz" -C "$work" package/LICENSE "package/dist/$build"
mkdir -p "$target"
cp "$work/package/dist/$build" "$target/$build"
cp "$work/package/LICENSE" "$target/LICENSE"
# The package does not ship the NOTICE its README asks users to show; this is the
# upstream repository's NOTICE file.
printf 'TradingView Lightweight Charts\nCopyright (c) 2023 TradingView, Inc. https://www.tradingview.com/\n' \
  > "$target/NOTICE"

sha256=$(sha256sum "$target/$build" | cut -d' ' -f1)
cat > "$target/README.md" <<EOF
# lightweight-charts (vendored)

TradingView Lightweight Charts, Apache-2.0 (LICENSE; attribution in NOTICE, shown under
every chart, and the library's TradingView logo link stays on). Written by
scripts/vendor-charts.sh; do not edit by hand. tests/admin_ui/test_vendored_charts.py
checks the file against the sha256 below.

- version: $version
- tarball: $url
- integrity: $integrity
- file: $build
- sha256: $sha256
EOF
echo "Vendored lightweight-charts $version into $target (sha256 $sha256)."
