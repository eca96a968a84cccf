#!/usr/bin/env bash
# Runs StockDesk locally on its embedded defaults: SQLite, the Django-Q2 ORM broker
# and offline sample prices. Ctrl-C stops the web server and the worker.
#
# Usage: scripts/demo.sh [check-port]
#   PORT (or DEMO_PORT; default 8000) and DEMO_HOST (default 127.0.0.1) say where the
#   site listens; `make demo PORT=8001 HOST=0.0.0.0` sets them.
#   check-port only checks that the port is free (exit 2 when it is not) and does
#   nothing else: `make demo` runs it before installing anything.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST=${DEMO_HOST:-127.0.0.1}
PORT=${PORT:-${DEMO_PORT:-8000}}

# Whether HOST:PORT can be listened on; exits 2 with the reason and a free port to
# use instead when it cannot. Plain Python 3 (any version, no venv) binds the port
# as runserver will (SO_REUSEADDR), so a port a stopped demo left in TIME_WAIT
# counts as free; without Python, a connection that is answered means busy.
port_check() {
  if ! [[ $PORT =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
    echo "PORT must be a number from 1 to 65535; got '$PORT'." >&2
    exit 2
  fi
  local python="" answer
  for candidate in "$PY" python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[0] != 3)' 2>/dev/null; then
      python=$candidate
      break
    fi
  done
  if [ -n "$python" ]; then
    answer=$("$python" - "$HOST" "$PORT" <<'EOF'
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])


def busy(number):
    try:
        infos = socket.getaddrinfo(host, number, type=socket.SOCK_STREAM)
    except OSError as exc:
        sys.exit(f"DEMO_HOST {host} does not resolve: {exc}.")
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


reason = busy(port)
if reason:
    free = next((n for n in range(port + 1, min(port + 100, 65536)) if not busy(n)), "")
    print(f"{reason}\t{free}")
EOF
    ) || exit 2
  elif (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
    answer=$(printf 'something already answers there\t%s' $((PORT + 1)))
  else
    answer=""
  fi
  if [ -n "$answer" ]; then
    local free=${answer#*$'\t'}
    echo "Port $PORT is in use ($HOST:$PORT: ${answer%%$'\t'*}); run \`make demo PORT=${free:-$((PORT + 1))}\`." >&2
    exit 2
  fi
}

port_check
if [ "${1:-}" = check-port ]; then
  exit 0
fi

# A server listening on every address is reached, and named, on the loopback one.
case $HOST in
  0.0.0.0 | :: | "[::]") url_host=127.0.0.1 ;;
  *:*) url_host="[$HOST]" ;;
  *) url_host=$HOST ;;
esac
BASE="http://$url_host:$PORT"

if [ ! -f .env ]; then
  secret=$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')
  # Plain log lines: the demo's logs are read in a terminal, not by CloudWatch.
  printf 'SECRET_KEY=%s\nDEBUG=true\nALLOWED_HOSTS=127.0.0.1,localhost\nLOG_FORMAT=plain\n' "$secret" > .env
  chmod 600 .env
  echo "Wrote a local .env (DEBUG on, plain logs, new SECRET_KEY)."
fi

$PY manage.py migrate --noinput
$PY manage.py demo_setup
# The setup took a while: the port may have been taken since the first check.
port_check

worker="" web=""
cleanup() {
  trap - EXIT INT TERM
  local pid alive tries=0
  for pid in $web $worker; do
    kill "$pid" 2>/dev/null || true
  done
  # A worker that hangs on its way out is not waited for long (15 s).
  while [ "$tries" -lt 150 ]; do
    alive=""
    for pid in $web $worker; do
      if kill -0 "$pid" 2>/dev/null; then alive=$pid; fi
    done
    [ -n "$alive" ] || break
    sleep 0.1
    tries=$((tries + 1))
  done
  for pid in $web $worker; do
    # The whole group (set -m below gave each its own): a worker's children too.
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
stop() {
  cleanup
  exit 0
}
trap cleanup EXIT
trap stop INT TERM

# Each process in a group of its own: Ctrl-C reaches this script only, which stops
# them once. Django-Q2 stops badly on a second signal (the terminal's SIGINT, then ours).
set -m
$PY manage.py qcluster &
worker=$!
$PY manage.py runserver --noreload "$HOST:$PORT" &
web=$!
set +m

# The login is printed once the site answers, so what it names can be opened.
echo "Waiting for $BASE/healthz ..."
tries=0
until $PY -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$BASE/healthz" 2>/dev/null; do
  if ! kill -0 "$web" 2>/dev/null; then
    echo "The web server stopped before it answered; its messages are above." >&2
    exit 1
  fi
  tries=$((tries + 1))
  if [ "$tries" -ge 240 ]; then
    echo "$BASE/healthz did not answer 200 within two minutes (is $url_host in ALLOWED_HOSTS of .env?)." >&2
    exit 1
  fi
  sleep 0.5
done
echo
# From the file demo_setup keeps, without starting Django again: printed at once.
$PY - "$BASE" <<'EOF'
import json
import sys

base = sys.argv[1]
with open(".demo/login.json") as saved:
    login = json.load(saved)
print(f"StockDesk admin: {base}/admin/")
print(f"  user:     {login['username']}")
print(f"  password: {login['password']}")
print(f'  API:      curl -H "Authorization: Bearer {login["token"]}" {base}/fetch/AAPL/')
print("  Ctrl-C stops the site and the worker.")
EOF
echo

wait "$web"
