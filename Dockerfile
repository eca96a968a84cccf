# syntax=docker/dockerfile:1
# StockDesk image. Targets:
#   runtime (default, last): the production image, pushed by CI and run on ECS
#   dev: runtime + the test tools, poppler-utils and chromium (the browser tests), so
#        `manage.py test` runs the whole suite
#        (docker-compose.yml builds this one)
# Web:    the default command, gunicorn (docker/gunicorn.conf.py: gthread workers, the app
#         preloaded; GUNICORN_WORKERS/THREADS)
# Worker: python manage.py qcluster (its health check reads the cluster's heartbeat file)
# Both read their configuration from the environment (.env.example lists every variable).

# --- base: Python + WeasyPrint's system libraries + the unprivileged user -------------
# Pinned by digest: the Debian release (12, bookworm) and the Python patch version
# (.python-version) the tests run on in CI; the bare python:3.12-slim tag has moved to
# Debian 13 since. tests/deploy/test_pipeline.py keeps this, .python-version and the
# workflow's test container in step. To move on: change all three, then `make test`.
FROM python:3.12.1-slim-bookworm@sha256:db7e9284d53f7b827c58a6239b9d2907c33250215823b1cdb7d1e983e70dafa5 AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
# Debian package versions are not pinned: the slim base moves with Debian's security
# updates and an exact pin would stop building once the archive drops that version.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 stockdesk \
    && useradd --system --uid 10001 --gid stockdesk --home-dir /app \
        --no-create-home --shell /usr/sbin/nologin stockdesk

# --- builder: the pinned runtime dependencies in a venv --------------------------------
FROM base AS builder
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /build/requirements.txt
RUN pip install --no-cache-dir -r /build/requirements.txt

# --- builder-dev: + the pinned test tools -------------------------------------------
FROM builder AS builder-dev
COPY requirements.txt requirements-dev.txt /build/
RUN pip install --no-cache-dir -r /build/requirements-dev.txt

# --- app: the code and the collected static files (root-owned, read-only to the app) --
FROM base AS app
ENV PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=core.settings \
    MPLCONFIGDIR=/var/cache/matplotlib \
    NUMBA_CACHE_DIR=/var/cache/numba \
    MEDIA_ROOT=/app/media \
    DJANGO_Q_HEARTBEAT_FILE=stockdesk-qcluster.heartbeat \
    PORT=8000
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY . /app
# Static files are collected at build time; WhiteNoise serves them (hashed names,
# compressed). The throwaway key only lets the settings load; it is not kept. The
# engine's numba kernels are compiled into the image too (backtesting.sweeps.warm_up),
# so no worker compiles them before its first backtest.
RUN SECRET_KEY=build-only-dummy DEBUG=false \
        python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/media /var/cache/matplotlib /var/cache/numba \
    && python -c "from backtesting.sweeps import warm_up; warm_up()" \
    && chown -R stockdesk:stockdesk /app/media /var/cache/matplotlib /var/cache/numba \
    && chmod 0755 docker/entrypoint.sh
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py", "web"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "--config", "/app/docker/gunicorn.conf.py", "core.wsgi:application"]

# --- dev: what `docker compose exec web python manage.py test` needs -----------------
FROM app AS dev
USER 0:0
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends poppler-utils chromium \
    && rm -rf /var/lib/apt/lists/* \
    && chown stockdesk:stockdesk /app
COPY --from=builder-dev /opt/venv /opt/venv
USER 10001:10001

# --- runtime: the production image (default target) ---------------------------------
FROM app AS runtime
