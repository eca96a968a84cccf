#!/usr/bin/env bash
# Creates .venv with Python 3.12 and installs the pinned requirements when they change.
# Usage: scripts/bootstrap.sh [runtime|dev]
set -euo pipefail
cd "$(dirname "$0")/.."

want=${1:-runtime}
req=requirements.txt
[ "$want" = dev ] && req=requirements-dev.txt

# The patch version the image and CI run (.python-version) comes first when present.
pinned=$(cat .python-version)

find_python() {
  local candidate pyenv_root=""
  command -v pyenv >/dev/null 2>&1 && pyenv_root=$(pyenv root)
  for candidate in "${PYTHON:-}" "$pyenv_root/versions/$pinned/bin/python3.12" \
      "$HOME/.pyenv/versions/$pinned/bin/python3.12" python3.12 "$pyenv_root"/versions/3.12*/bin/python3.12 \
      "$HOME"/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
  if ! py=$(find_python); then
    echo "StockDesk needs Python 3.12 and none was found." >&2
    echo "Install it (e.g. 'pyenv install 3.12' or your system's python3.12 package)," >&2
    echo "or point PYTHON at it: make demo PYTHON=/path/to/python3.12" >&2
    exit 1
  fi
  echo "Creating .venv with $py"
  rm -rf .venv
  "$py" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  actual=$(.venv/bin/python -c 'import platform; print(platform.python_version())')
  if [ "$actual" != "$pinned" ]; then
    echo "Note: Python $actual here; the image and CI run $pinned (.python-version)." >&2
  fi
fi

# Reinstall only when the requirement files changed since the last install.
stamp=.venv/.installed-$want
digest=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  echo "Installing $req into .venv"
  .venv/bin/python -m pip install --quiet -r "$req" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  echo "$digest" > "$stamp"
fi
