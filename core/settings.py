"""StockDesk settings: one module, configured only from the environment (and `.env`)."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from core.environment import (
    database_from_env,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_rate,
    env_str,
)
from core.error_reporting import error_reporting_init
from core.log_config import LOG_FORMATS, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

# Real environment variables win over .env, so CI and containers can override it.
load_dotenv(BASE_DIR / ".env", override=False)


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Put it in the environment or in .env "
        "(`make demo` writes a local .env for you)."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "import_export",
    "axes",
    "core",
    "ingestion",
    "backtesting",
    "ml",
    "reporting",
    "admin_ui",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Early, so the id is set for the rest and even static files get their line.
    "core.request_id.RequestIdMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Admin logins: 5 failures for one username from one address lock it for 15 minutes.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("AXES_COOLOFF_MINUTES", 15.0))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0)

ROOT_URLCONF = "core.urls"
WSGI_APPLICATION = "core.wsgi.application"
# `manage.py test` runs the pytest suite (e.g. inside the container).
TEST_RUNNER = "core.test_runner.PytestRunner"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


DATABASES = {"default": database_from_env(sqlite_path=BASE_DIR / "db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Without collectstatic (local runs) WhiteNoise serves straight from the apps.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)

LOGIN_URL = "admin:login"
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

# --- Alpha Vantage and ingestion ---------------------------------------------------
ALPHA_VANTAGE_API_KEY = env_str("ALPHA_VANTAGE_API_KEY")
ALPHA_VANTAGE_BASE_URL = env_str(
    "ALPHA_VANTAGE_BASE_URL", "https://www.alphavantage.co/query"
)
ALPHA_VANTAGE_PLAN = env_str("ALPHA_VANTAGE_PLAN", "auto").lower()
if ALPHA_VANTAGE_PLAN not in {"auto", "free", "premium"}:
    raise ImproperlyConfigured("ALPHA_VANTAGE_PLAN must be auto, free or premium")
ALPHA_VANTAGE_DAILY_LIMIT = env_int("ALPHA_VANTAGE_DAILY_LIMIT", 25)
ALPHA_VANTAGE_MIN_INTERVAL = env_float("ALPHA_VANTAGE_MIN_INTERVAL", 1.0)
ALPHA_VANTAGE_TIMEOUT = env_float("ALPHA_VANTAGE_TIMEOUT", 15.0)
ALPHA_VANTAGE_MAX_RETRIES = env_int("ALPHA_VANTAGE_MAX_RETRIES", 2)
ALPHA_VANTAGE_BACKOFF = env_float("ALPHA_VANTAGE_BACKOFF", 0.5)
# auto: Alpha Vantage when a key is set, else the offline sample provider.
PRICE_PROVIDER = env_str("PRICE_PROVIDER", "auto").lower()
if PRICE_PROVIDER not in {"auto", "alpha_vantage", "sample"}:
    raise ImproperlyConfigured("PRICE_PROVIDER must be auto, alpha_vantage or sample")
PRICE_HISTORY_YEARS = env_int("PRICE_HISTORY_YEARS", 2)
# Seconds a synchronous /fetch/ may take in all (lock and call-slot waits, every
# attempt, backoff); past it the answer is 504 provider_timeout. Below gunicorn's
# and the load balancer's 60 s, so the client gets JSON rather than a cut connection.
FETCH_SYNC_DEADLINE = env_float("FETCH_SYNC_DEADLINE", 20.0)
if FETCH_SYNC_DEADLINE <= 0:
    raise ImproperlyConfigured("FETCH_SYNC_DEADLINE must be a number of seconds > 0")

# --- Django-Q2 -------------------------------------------------------------------
# The ORM broker everywhere: the database is the queue (SQLite locally, PostgreSQL in
# production). It acknowledges: a task stays queued, locked for `retry` seconds,
# until its result is saved, so a task whose worker died runs again. Django-Q2's
# Redis broker forgets a task once handed over, so it is refused (docs/deploy.md).
Q_BROKER = env_str("DJANGO_Q_BROKER", "orm").lower()
if Q_BROKER != "orm":
    raise ImproperlyConfigured(
        "DJANGO_Q_BROKER must be orm: the one Django-Q2 broker here that runs a task "
        "again when its worker dies (docs/deploy.md, 'Background jobs')"
    )
# Redis, where it runs, is the shared cache only (CACHE_BACKEND, below).
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# The cluster touches this file while it runs; the worker container's health check
# reads its age without loading Django (docker/healthcheck.py). Empty: no file.
# A relative name is taken inside the system's temporary directory, as the health
# check takes it (both read the same variable).
Q_HEARTBEAT_FILE = env_str("DJANGO_Q_HEARTBEAT_FILE")
if Q_HEARTBEAT_FILE:
    Q_HEARTBEAT_FILE = os.path.join(tempfile.gettempdir(), Q_HEARTBEAT_FILE)
Q_CLUSTER = {
    "name": env_str("DJANGO_Q_NAME", "stockdesk"),
    "workers": env_int("DJANGO_Q_WORKERS", 2),
    # The longest task (a fetch with its retries, or a 20-year report) must end
    # well inside timeout, and retry must exceed timeout or tasks run twice.
    "timeout": env_int("DJANGO_Q_TIMEOUT", 300),
    # A task whose worker died (SIGKILL, out of memory, a lost container) is handed
    # out again this long after it was taken.
    "retry": env_int("DJANGO_Q_RETRY", 360),
    # Starts of one Job in all, re-deliveries included (core.services.job_start
    # counts them: Django-Q2's own count misses attempts whose worker died).
    "max_attempts": env_int("DJANGO_Q_MAX_ATTEMPTS", 2),
    "catch_up": False,
    "ack_failures": True,
    # Tasks a cluster takes before a worker is free for them, while their retry
    # clock runs: one waiting in its queue (and one in the hand of its pusher).
    "queue_limit": 1,
    "save_limit": 1000,
    "poll": env_float("DJANGO_Q_POLL", 0.5),
    "sync": env_bool("DJANGO_Q_SYNC", False),
    "label": "Task queue",
    "orm": "default",
    # The ORM broker, plus the heartbeat file above.
    "broker_class": "core.queue_broker.HeartbeatORM",
}

# --- Web server threads and PDF reports --------------------------------------------
# A gunicorn worker process serves every request on GUNICORN_THREADS threads
# (docker/gunicorn.conf.py). At most REPORT_PDF_MAX_RENDERS PDF reports render at once
# in a process and REPORT_PDF_MAX_WAITING more wait up to REPORT_PDF_WAIT_SECONDS for
# their turn; beyond that, 503 with Retry-After. Together they stay below the thread
# count (gunicorn refuses to start otherwise), so /healthz always finds a thread. One
# render at a time: a second one in the same process adds little (the GIL) and holds
# the GIL in longer stretches, which /healthz then waits out.
REPORT_PDF_MAX_RENDERS = env_int("REPORT_PDF_MAX_RENDERS", 1)
REPORT_PDF_MAX_WAITING = env_int("REPORT_PDF_MAX_WAITING", 2)
REPORT_PDF_WAIT_SECONDS = env_float("REPORT_PDF_WAIT_SECONDS", 10.0)
if REPORT_PDF_MAX_RENDERS < 1 or REPORT_PDF_MAX_WAITING < 0:
    raise ImproperlyConfigured(
        "REPORT_PDF_MAX_RENDERS must be at least 1 and REPORT_PDF_MAX_WAITING at least 0"
    )

# --- Security (production values come from the environment) ----------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Load balancer and container health checks call /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"

# --- Logging: one line per event, with the request id; every handler strips the ----
# Alpha Vantage key, whatever logged it (core/log_config.py, docs/observability.md).
# json (default): one JSON object a line, as CloudWatch's metric filters read them;
# plain: text for a terminal (`make demo` writes LOG_FORMAT=plain into its .env).
LOG_FORMAT = env_str("LOG_FORMAT", "json").lower()
if LOG_FORMAT not in LOG_FORMATS:
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain")
LOGGING = logging_config(
    log_format=LOG_FORMAT,
    level=env_str("LOG_LEVEL", "INFO").upper(),
    secrets=[ALPHA_VANTAGE_API_KEY],
)
LOGGING_CONFIG = "core.log_config.logging_configure"

# --- Error reporting: Sentry, only when SENTRY_DSN is set (docs/observability.md) --
SENTRY_TRACES_SAMPLE_RATE = env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0)
if not 0.0 <= SENTRY_TRACES_SAMPLE_RATE <= 1.0:
    raise ImproperlyConfigured("SENTRY_TRACES_SAMPLE_RATE must be a number from 0 to 1")
error_reporting_init(
    dsn=env_str("SENTRY_DSN"),
    environment=env_str("SENTRY_ENVIRONMENT"),
    release=env_str("SENTRY_RELEASE"),
    traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    secrets=[ALPHA_VANTAGE_API_KEY],
)

# --- Admin (django-unfold) -------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": "StockDesk",
    "DASHBOARD_CALLBACK": "admin_ui.dashboard.dashboard_callback",
    "SITE_HEADER": "StockDesk",
    "SITE_SUBHEADER": "Stock research desk",
    "SITE_SYMBOL": "monitoring",
    "SITE_URL": None,
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "COLORS": {
        "primary": {
            "50": "oklch(97.7% .014 246)",
            "100": "oklch(95.1% .026 236)",
            "200": "oklch(90.1% .058 230)",
            "300": "oklch(82.8% .111 230)",
            "400": "oklch(74.6% .16 232)",
            "500": "oklch(68.5% .169 237)",
            "600": "oklch(58.8% .158 242)",
            "700": "oklch(50% .134 242)",
            "800": "oklch(44.3% .11 241)",
            "900": "oklch(39.1% .09 240)",
            "950": "oklch(29.3% .066 243)",
        },
    },
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        # The groups and links are built per request, in the admin package.
        "navigation": "admin_ui.sidebar.navigation",
    },
}

# --- Abuse and cost: shared cache, rate limits, CSP, client addresses, import/export --
# One cache shared by every web process: rate-limit counters and import previews
# must be seen by all of them. auto (default): Redis when REDIS_URL is set (compose,
# ECS, the CI smoke), else memory, which is per process and serves the local demo
# (one runserver process) only.
CACHE_BACKEND = (env_str("CACHE_BACKEND") or "auto").lower()
if CACHE_BACKEND == "auto":
    CACHE_BACKEND = "redis" if env_str("REDIS_URL") else "locmem"
if CACHE_BACKEND == "redis":
    CACHES = {
        "default": {
            "BACKEND": "core.redis_cache.OneTripIncrRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "stockdesk",
            # A Redis that stops answering fails the request in seconds, not minutes.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
elif CACHE_BACKEND == "locmem":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "stockdesk",
        }
    }
else:
    raise ImproperlyConfigured("CACHE_BACKEND must be auto, redis or locmem")

# Per-user request rates on the endpoints that do work (/fetch/, /backtest/,
# /predict/, /report/), counted by django-ratelimit in the cache above, one counter
# per user and endpoint: "30/m" is 30 calls a minute ("N/s", "N/m", "N/h", "N/d").
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
RATELIMIT_USE_CACHE = "default"


RATELIMIT_WORK = env_rate("RATELIMIT_WORK", "30/m")

# Content-Security-Policy (django-csp; core.csp picks the policy per path). The JSON
# endpoints, the JSON error pages and the PDF download load nothing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}
# The admin: unfold's own files only. Alpine.js (unfold's standard build) compiles
# its x-* attributes with new Function, hence 'unsafe-eval'; unfold's templates, the
# chart legends and Alpine's bindings set style attributes, hence 'unsafe-inline' for
# styles (not for scripts). The dashboard's charts are Chart.js canvases and the price,
# backtest and forecast charts the vendored lightweight-charts (static, 'self'), whose
# own <style> element 'unsafe-inline' covers: no image or script from elsewhere.
CONTENT_SECURITY_POLICY_ADMIN = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        # As X_FRAME_OPTIONS = "DENY", which browsers ignore once this is present.
        "frame-ancestors": ["'none'"],
    }
}
CONTENT_SECURITY_POLICY_ADMIN_PREFIX = "/admin/"
# After WhiteNoise, so static files (which need no policy) are served before it.
MIDDLEWARE.insert(
    MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1,
    "core.csp.ContentSecurityPolicyMiddleware",
)

# The login lockout counts the client, not the load balancer. django-axes asks
# django-ipware; behind AXES_PROXY_COUNT proxies (1 behind the ALB) the last one has
# appended the address it saw to X-Forwarded-For, the proxies before it theirs, and
# whatever stands left of those came from the client. django-ipware counts only the
# proxies named inside the header, hence one less; not strict, so a client that sends
# its own X-Forwarded-For still gets the address the proxies wrote. This replaces the
# AXES_IPWARE_PROXY_COUNT set with the other django-axes settings above.
_proxies_in_front = env_int("AXES_PROXY_COUNT", 0)
if _proxies_in_front > 0:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = _proxies_in_front - 1
else:
    # Directly exposed (the local demo): the header is the client's to invent.
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
    AXES_IPWARE_PROXY_COUNT = None
IPWARE_STRICT = False

# Price import (admin): files above this size are refused with a message. 64 KiB is
# about 1,100 rows, which the import checks and writes row by row (some 20 ms each)
# well inside a request's GUNICORN_TIMEOUT. The upload waits between preview and
# confirm in the cache above, not in a temporary file, so an abandoned preview leaves
# nothing on disk (and expires from the cache).
PRICE_IMPORT_MAX_BYTES = env_int("PRICE_IMPORT_MAX_BYTES", 64 * 1024)
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"
# Exports neutralise formulae in admin_ui.export_safety (admin_ui.bases.Exports), with
# nothing lost and numbers kept as numbers. django-import-export's own switch stays
# off: it strips a leading "=" only and turns every XLSX cell into text ("None" for
# an empty one).
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False
