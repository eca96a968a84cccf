#!/usr/bin/env bash
# Installs the Debian packages StockDesk needs outside Python, when they are missing.
# Usage: scripts/system-deps.sh runtime|test
#   runtime: WeasyPrint's libraries and fonts (PDF reports)
#   test:    runtime + poppler-utils (pdftoppm, for the report page checks)
#            + a Chromium for the browser tests: one already there (STOCKDESK_CHROMIUM,
#              or chromium, chromium-browser or google-chrome on PATH) or Debian's
#              chromium package; never `playwright install`
set -euo pipefail
want=${1:-runtime}

browser_present() {
  [ -n "${STOCKDESK_CHROMIUM:-}" ] && [ -x "$STOCKDESK_CHROMIUM" ] && return 0
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
    command -v google-chrome >/dev/null 2>&1
}

packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
if [ "$want" = test ]; then
  packages+=(poppler-utils)
  browser_present || packages+=(chromium)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing system packages: ${missing[*]} (install them with your package manager)." >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
