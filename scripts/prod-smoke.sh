#!/usr/bin/env bash
# Production smoke: StockDesk as it runs in production, on this machine, through HTTP.
#   gunicorn (docker/gunicorn.conf.py) with production settings: DEBUG=false, static files
#   collected into a temporary STATIC_ROOT and served by WhiteNoise, SSL redirect + HSTS
#   behind a TLS proxy (requests carry X-Forwarded-Proto: https, as an ALB sends them);
#   a fresh PostgreSQL database (created here, dropped at the end), which is also the
#   task queue of a Django-Q2 cluster (the ORM broker); Redis at 127.0.0.1:6379 as the
#   shared cache (started here if nothing answers); and the fake Alpha Vantage server,
#   with a premium key and generated prices.
# Then, with curl: /healthz, the HTTPS redirect, a staff user's API token, an async fetch
# followed to its job's end, a backtest, a trained model's forecast, the PDF report,
# /healthz answering within 1 s while a dozen PDF reports render at once, and the admin
# login page with its CSS. One PASS/FAIL line per step; stops at the first failure
# (exit 1) and always stops every process it started.
#
# Usage: scripts/prod-smoke.sh
#   SMOKE_POSTGRES_URL  a PostgreSQL login allowed to create databases
#                       (default postgres://postgres@127.0.0.1:5432/postgres)
#   SMOKE_REDIS_PORT    Redis port on 127.0.0.1 (default 6379)
#   SMOKE_SKIP_SETUP    set: use the system packages and .venv as they are (no installs)
#   SMOKE_HEALTHZ_BUDGET  seconds /healthz may take while PDF reports render (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python
PG_URL=${SMOKE_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS_PORT=${SMOKE_REDIS_PORT:-6379}
SYMBOL=SMOKE
HEALTHZ_BUDGET=${SMOKE_HEALTHZ_BUDGET:-1.0}

if [ -z "${SMOKE_SKIP_SETUP:-}" ]; then
  scripts/system-deps.sh runtime
  scripts/bootstrap.sh runtime
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/stockdesk-smoke.XXXXXX")
DB_NAME="stockdesk_smoke_$$"
STARTED=$(date +%s)
PIDS=()
REDIS_STARTED=""
DB_CREATED=""

log() { printf '%s\n' "$*"; }
# The terminal, kept: a step's output goes to a file, and an interrupt runs cleanup
# inside that redirection.
exec 3>&1 4>&2

cleanup() {
  local rc=$?
  # Finish cleaning up even if interrupted again.
  trap - EXIT
  trap '' INT TERM
  exec 1>&3 2>&4
  local pid i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$REDIS_STARTED" ] && [ -f "$WORK/redis.pid" ]; then
    kill -TERM "$(cat "$WORK/redis.pid")" 2>/dev/null || true
  elif [ -n "${DJANGO_Q_NAME:-}" ]; then
    # A shared Redis: remove only this run's keys (the cluster's status, in the cache).
    "$PY" - <<EOF 2>/dev/null || true
import redis
r = redis.Redis(port=$REDIS_PORT)
for key in r.scan_iter("*django_q:${DJANGO_Q_NAME}:*"):
    r.delete(key)
EOF
  fi
  if [ -n "$DB_CREATED" ]; then
    "$PY" - "$PG_URL" "$DB_NAME" <<'EOF' || echo "could not drop database $DB_NAME" >&2
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)')
EOF
  fi
  if [ "$rc" -ne 0 ] && [ -n "${CURRENT_STEP:-}" ]; then
    printf 'FAIL  %s\n' "$CURRENT_STEP"
    tail -n 30 "$WORK/step.out" 2>/dev/null | sed 's/^/      /'
  fi
  if [ "$rc" -ne 0 ]; then
    for name in gunicorn qcluster fake-av; do
      [ -s "$WORK/$name.log" ] || continue
      log "--- last lines of $name.log"
      tail -n 15 "$WORK/$name.log" | sed 's/^/    /'
    done
    log "SMOKE FAIL after $(($(date +%s) - STARTED))s"
  else
    log "SMOKE PASS: all steps in $(($(date +%s) - STARTED))s"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# step NAME FUNCTION: runs it under `set -e` (not inside an `if`, which would switch
# -e off); the first failing command ends the script and cleanup prints the FAIL line.
CURRENT_STEP=""
step() {
  local t0 t1
  CURRENT_STEP=$1
  shift
  t0=$(date +%s%N)
  "$@" >"$WORK/step.out" 2>&1
  t1=$(date +%s%N)
  printf 'PASS  %-46s %6.1fs\n' "$CURRENT_STEP" "$(((t1 - t0) / 1000000))e-3"
  CURRENT_STEP=""
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

json_get() { # json_get FILE EXPRESSION (on `d`, the parsed JSON)
  "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# http METHOD PATH [curl options...]: the body goes to $WORK/body, headers to
# $WORK/headers; prints the status code. As behind the ALB: X-Forwarded-Proto: https.
http() {
  local method=$1 path=$2
  shift 2
  curl -sS -X "$method" -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' \
    --max-time 60 -H "X-Forwarded-Proto: https" "$@" "$BASE$path"
}

api() { http "$1" "$2" -H "Authorization: Bearer $TOKEN"; }

expect_status() { # expect_status WANT GOT
  if [ "$1" != "$2" ]; then
    echo "HTTP $2, expected $1"
    head -c 600 "$WORK/body" 2>/dev/null
    echo
    return 1
  fi
}

# --- the production environment ----------------------------------------------------
PORT=$(free_port)
AV_PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
DB_URL=$("$PY" -c 'import sys; from urllib.parse import urlsplit; u = urlsplit(sys.argv[1]); print(u._replace(path="/" + sys.argv[2]).geturl())' "$PG_URL" "$DB_NAME")

export DJANGO_SETTINGS_MODULE=core.settings
SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')
export SECRET_KEY
export DEBUG=false
export ALLOWED_HOSTS=127.0.0.1,localhost
export CSRF_TRUSTED_ORIGINS="https://127.0.0.1:$PORT"
export USE_X_FORWARDED_PROTO=true SECURE_SSL_REDIRECT=true
export SECURE_HSTS_SECONDS=31536000 SECURE_HSTS_INCLUDE_SUBDOMAINS=true SECURE_HSTS_PRELOAD=true
export SESSION_COOKIE_SECURE=true CSRF_COOKIE_SECURE=true
export DATABASE_URL=$DB_URL
export DJANGO_Q_BROKER=orm CACHE_BACKEND=redis REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export DJANGO_Q_NAME="stockdesk-smoke-$$" DJANGO_Q_SYNC=false DJANGO_Q_WORKERS=2 DJANGO_Q_POLL=0.2
export DJANGO_Q_HEARTBEAT_FILE="$WORK/qcluster.heartbeat"
export PRICE_PROVIDER=alpha_vantage ALPHA_VANTAGE_PLAN=auto
export ALPHA_VANTAGE_API_KEY=PREMIUM-SMOKE-KEY
export ALPHA_VANTAGE_BASE_URL="http://127.0.0.1:$AV_PORT/query"
export ALPHA_VANTAGE_MIN_INTERVAL=0 ALPHA_VANTAGE_DAILY_LIMIT=25 PRICE_HISTORY_YEARS=2
export STATIC_ROOT="$WORK/static" MEDIA_ROOT="$WORK/media" MPLCONFIGDIR="$WORK/matplotlib"
export WHITENOISE_USE_FINDERS=false AXES_ENABLED=true LOG_LEVEL=INFO
export GUNICORN_BIND="127.0.0.1:$PORT" GUNICORN_WORKERS=2 GUNICORN_THREADS=4

log "Production smoke: gunicorn on $BASE, PostgreSQL database $DB_NAME (data and task queue), Redis cache 127.0.0.1:$REDIS_PORT, fake Alpha Vantage on port $AV_PORT"

# --- steps -------------------------------------------------------------------------
create_database() {
  "$PY" - "$PG_URL" "$DB_NAME" <<'EOF'
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True, connect_timeout=10) as conn:
    conn.execute(f'CREATE DATABASE "{sys.argv[2]}"')
EOF
  DB_CREATED=1
}

redis_ping() {
  "$PY" -c 'import redis, sys; sys.exit(0 if redis.Redis(port=int(sys.argv[1]), socket_timeout=2).ping() else 1)' "$REDIS_PORT" 2>/dev/null
}

redis_ready() {
  redis_ping && return 0
  if ! command -v redis-server >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "Installing redis-server"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  fi
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --daemonize yes --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"
  REDIS_STARTED=1
  for _ in $(seq 1 50); do redis_ping && return 0; sleep 0.1; done
  return 1
}

collectstatic() {
  "$PY" manage.py collectstatic --noinput --verbosity 0
  test -f "$STATIC_ROOT/staticfiles.json"
}

check_deploy() { "$PY" manage.py check --deploy --fail-level WARNING; }

migrate() { "$PY" manage.py migrate --noinput --verbosity 0; }

wait_for_url() { # wait_for_url URL SECONDS PID [-f]: until it answers (with -f: a 2xx)
  local i options=(-s -o /dev/null --max-time 2)
  [ "${4:-}" = -f ] && options+=(-f)
  for ((i = 0; i < $2 * 5; i++)); do
    curl "${options[@]}" "$1" && return 0
    kill -0 "$3" 2>/dev/null || { echo "the process exited"; return 1; }
    sleep 0.2
  done
  echo "no answer from $1 within $2 s"
  return 1
}

start_fake_av() {
  "$PY" -m tests.fakes.alphavantage --port "$AV_PORT" --generate "$SYMBOL" --days 600 \
    --quiet >"$WORK/fake-av.log" 2>&1 &
  PIDS+=($!)
  wait_for_url "http://127.0.0.1:$AV_PORT/query" 15 "$!"
}

start_gunicorn() {
  "$ROOT/.venv/bin/gunicorn" --config docker/gunicorn.conf.py core.wsgi:application \
    >"$WORK/gunicorn.log" 2>&1 &
  PIDS+=($!)
  wait_for_url "$BASE/healthz" 60 "$!" -f
}

start_qcluster() {
  "$PY" manage.py qcluster >"$WORK/qcluster.log" 2>&1 &
  PIDS+=($!)
  local i
  for ((i = 0; i < 150; i++)); do
    grep -q "running" "$WORK/qcluster.log" 2>/dev/null && return 0
    kill -0 "$!" 2>/dev/null || { cat "$WORK/qcluster.log"; return 1; }
    sleep 0.2
  done
  echo "the cluster did not report running within 30 s"
  return 1
}

container_health_checks() {
  # The image's HEALTHCHECK (web) and the worker's, as Docker and ECS run them.
  PORT=$PORT "$PY" docker/healthcheck.py web
  "$PY" docker/healthcheck.py worker
}

healthz() {
  # Plain HTTP without the proxy header: the health check is exempt from the redirect.
  local code
  code=$(curl -sS -o "$WORK/body" -w '%{http_code}' "$BASE/healthz")
  expect_status 200 "$code"
  test "$(json_get "$WORK/body" 'd["status"], d["database"]')" = "('ok', 'ok')"
}

https_redirect() {
  local code
  code=$(curl -sS -o /dev/null -D "$WORK/headers" -w '%{http_code}' "$BASE/admin/login/")
  expect_status 301 "$code"
  grep -qi "^location: https://127.0.0.1:$PORT/admin/login/" "$WORK/headers"
  code=$(http GET /healthz)
  expect_status 200 "$code"
  grep -qi "^strict-transport-security: max-age=31536000; includeSubDomains; preload" "$WORK/headers"
}

api_token() {
  DJANGO_SUPERUSER_PASSWORD=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(24))') \
    "$PY" manage.py createsuperuser --noinput --username smoke --email smoke@example.com
  TOKEN=$("$PY" manage.py create_api_token smoke --name "production smoke" 2>/dev/null)
  test -n "$TOKEN"
  # Without the token: 401.
  local code
  code=$(http GET "/jobs/1/")
  expect_status 401 "$code"
}

fetch_async() {
  local code url status
  code=$(api GET "/fetch/$SYMBOL/?async=1")
  expect_status 202 "$code"
  url=$(json_get "$WORK/body" 'd["url"]')
  for _ in $(seq 1 150); do
    code=$(api GET "$url")
    expect_status 200 "$code"
    status=$(json_get "$WORK/body" 'd["status"]')
    case $status in
      succeeded) break ;;
      failed) cat "$WORK/body"; echo; return 1 ;;
    esac
    sleep 0.2
  done
  echo "job $url: $status"
  test "$status" = succeeded
  "$PY" manage.py shell -c "from core.models import PriceBar; n = PriceBar.objects.filter(symbol__ticker='$SYMBOL').count(); print(n, 'bars'); assert n >= 400, n"
}

backtest() {
  local code
  code=$(api GET "/backtest/$SYMBOL/10000/?fast=10&slow=30")
  expect_status 200 "$code"
  json_get "$WORK/body" 'd["data"]["bars"], len(d["trades"]), sorted(d["metrics"])[:4]'
  test "$(json_get "$WORK/body" 'd["data"]["bars"] >= 400 and len(d["trades"]) > 0')" = True
}

train_model() { "$PY" manage.py train_model --symbol "$SYMBOL"; }

predict() {
  local code
  code=$(api GET "/predict/$SYMBOL/")
  expect_status 200 "$code"
  test "$(json_get "$WORK/body" 'len(d["predictions"])')" -gt 0
}

report_pdf() {
  local code
  code=$(api GET "/report/$SYMBOL/?format=pdf")
  expect_status 200 "$code"
  test "$(head -c 4 "$WORK/body")" = "%PDF"
  echo "$(wc -c <"$WORK/body") bytes"
}

healthz_under_pdf_load() {
  # 2 gunicorn processes x (1 render + 2 waiting) take 6 reports; the others get 503.
  # Its figures go to the terminal too (fd 3).
  "$PY" scripts/healthz_under_pdf_load.py "$BASE" "$SYMBOL" "$TOKEN" --requests 12 \
    --healthz-budget "$HEALTHZ_BUDGET" | sed 's/^/      /' >&3
}

admin_static() {
  local code css
  code=$(http GET /admin/login/)
  expect_status 200 "$code"
  # The first stylesheet of the login page, a hashed name from collectstatic's manifest.
  css=$(grep -o 'href="/static/[^"]*\.css"' "$WORK/body" | head -n 1 | cut -d'"' -f2)
  test -n "$css" || { echo "no /static/ stylesheet on the login page"; return 1; }
  echo "$css"
  code=$(http GET "$css")
  expect_status 200 "$code"
  grep -qi '^content-type: text/css' "$WORK/headers"
  test -s "$WORK/body"
}

step "database $DB_NAME created" create_database
step "redis answers on 127.0.0.1:$REDIS_PORT" redis_ready
step "collectstatic into a temporary STATIC_ROOT" collectstatic
step "check --deploy --fail-level WARNING" check_deploy
step "migrate" migrate
step "fake Alpha Vantage up ($SYMBOL, 600 days)" start_fake_av
step "gunicorn up (DEBUG=false)" start_gunicorn
step "Django-Q2 cluster up (ORM broker, PostgreSQL)" start_qcluster
step "GET /healthz (plain HTTP) 200" healthz
step "docker/healthcheck.py web and worker" container_health_checks
step "HTTP to HTTPS redirect; HSTS header" https_redirect
step "staff user + API token (manage.py)" api_token
step "fetch ?async=1, job followed to succeeded" fetch_async
step "GET /backtest/$SYMBOL/10000/?fast=10&slow=30" backtest
step "manage.py train_model --symbol $SYMBOL" train_model
step "GET /predict/$SYMBOL/" predict
step "GET /report/$SYMBOL/?format=pdf is a PDF" report_pdf
step "/healthz within ${HEALTHZ_BUDGET} s during 12 PDF requests" healthz_under_pdf_load
step "admin login page and its static CSS" admin_static
