#!/usr/bin/env bash
# Runs a command (the test suite) and fails if it left the checkout changed: the
# output of `git status --ignored --porcelain` must read the same after as before.
# Usage: scripts/check-clean-tree.sh .venv/bin/python -m pytest [ARGS...]
# The command's exit code is kept; a clean run that changed the tree exits 1. Outside
# a git checkout (an exported tree, a container without .git) it only runs the command.
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

if ! command -v git >/dev/null 2>&1 || ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  exec "$@"
fi

# Porcelain paths are relative to the top of the checkout, wherever this runs from.
tree_status() { git status --ignored --porcelain | LC_ALL=C sort; }

before=$(tree_status)
status=0
"$@" || status=$?
after=$(tree_status)

added=$(LC_ALL=C comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))
gone=$(LC_ALL=C comm -23 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))
if [[ -z "$added" && -z "$gone" ]]; then
  exit "$status"
fi

{
  echo
  echo "check-clean-tree: \`$*\` changed the checkout (git status --ignored --porcelain):"
  if [[ -n "$added" ]]; then
    echo "  new or changed:"
    sed 's/^/    /' <<<"$added"
  fi
  if [[ -n "$gone" ]]; then
    echo "  gone or changed:"
    sed 's/^/    /' <<<"$gone"
  fi
  echo "Tests write to temporary folders only (core/settings_test.py, tests/conftest.py);"
  echo "whatever wrote these paths should use tmp_path or settings.TEST_DIR instead."
} >&2
if [[ "$status" -ne 0 ]]; then
  exit "$status"
fi
exit 1
