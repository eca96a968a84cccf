#!/bin/sh
# Entry point of the StockDesk image: prepares the environment, then runs the given
# command (default: gunicorn; the worker runs `python manage.py qcluster`).
set -eu

# On ECS the load balancer's health checks use the task's private address as Host:
# let Django accept it, next to the configured names.
if [ -n "${ECS_CONTAINER_METADATA_URI_V4:-}" ]; then
  if task_ip=$(python "$(dirname "$0")/ecs_task_ip.py"); then
    ALLOWED_HOSTS="${ALLOWED_HOSTS:+$ALLOWED_HOSTS,}$task_ip"
    export ALLOWED_HOSTS
  fi
fi

exec "$@"
