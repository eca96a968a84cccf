#!/usr/bin/env bash
# Runs StockDesk locally on its embedded defaults: SQLite, the Django-Q2 ORM broker
# and offline sample prices. Ctrl-C stops the web server and the worker.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST=${DEMO_HOST:-127.0.0.1}
PORT=${DEMO_PORT:-8000}

if [ ! -f .env ]; then
  secret=$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')
  # Plain log lines: the demo's logs are read in a terminal, not by CloudWatch.
  printf 'SECRET_KEY=%s\nDEBUG=true\nALLOWED_HOSTS=127.0.0.1,localhost\nLOG_FORMAT=plain\n' "$secret" > .env
  chmod 600 .env
  echo "Wrote a local .env (DEBUG on, plain logs, new SECRET_KEY)."
fi

$PY manage.py migrate --noinput
$PY manage.py demo_setup --base-url "http://$HOST:$PORT"

$PY manage.py qcluster &
worker=$!
cleanup() {
  trap - EXIT INT TERM
  kill "$worker" 2>/dev/null || true
  wait "$worker" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

$PY manage.py runserver --noreload "$HOST:$PORT"
