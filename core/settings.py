"""StockDesk settings: one module, configured only from the environment (and `.env`)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent

# Real environment variables win over .env, so CI and containers can override it.
load_dotenv(BASE_DIR / ".env", override=False)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, not {value!r}"
        ) from exc


def env_float(name: str, default: float) -> float:
    value = env_str(name)
    try:
        return float(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


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


def _database() -> dict:
    """DATABASE_URL first, then the original brief's DATABASE_* variables, else SQLite."""
    url = env_str("DATABASE_URL")
    if url:
        config = dj_database_url.parse(
            url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60)
        )
    elif env_str("DATABASE_NAME") and env_str("DATABASE_HOST"):
        config = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": env_str("DATABASE_NAME"),
            "USER": env_str("DATABASE_USER"),
            "PASSWORD": env_str("DATABASE_PASSWORD"),
            "HOST": env_str("DATABASE_HOST"),
            "PORT": env_str("DATABASE_PORT", "5432"),
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
        }
    else:
        config = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
        }
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # The web process and the Django-Q2 worker share the file: WAL lets readers
        # run beside a writer, IMMEDIATE takes the write lock up front so two
        # writers queue on the busy timeout instead of failing with "locked".
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        config["CONN_MAX_AGE"] = 0
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database()}
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

# --- Django-Q2 -------------------------------------------------------------------
Q_BROKER = env_str("DJANGO_Q_BROKER", "orm").lower()
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
Q_CLUSTER = {
    "name": env_str("DJANGO_Q_NAME", "stockdesk"),
    "workers": env_int("DJANGO_Q_WORKERS", 2),
    # The longest task (a fetch with its retries, or a 20-year report) must end
    # well inside timeout, and retry must exceed timeout or tasks run twice.
    "timeout": env_int("DJANGO_Q_TIMEOUT", 300),
    "retry": env_int("DJANGO_Q_RETRY", 360),
    "max_attempts": env_int("DJANGO_Q_MAX_ATTEMPTS", 2),
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 1000,
    "poll": env_float("DJANGO_Q_POLL", 0.5),
    "sync": env_bool("DJANGO_Q_SYNC", False),
    "label": "Task queue",
}
if Q_BROKER == "redis":
    Q_CLUSTER["redis"] = REDIS_URL
elif Q_BROKER == "orm":
    Q_CLUSTER["orm"] = "default"
else:
    raise ImproperlyConfigured("DJANGO_Q_BROKER must be orm or redis")

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

# --- Logging: every handler strips the Alpha Vantage key, whatever logged it -------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {
            "()": "core.redaction.RedactingFilter",
            "secrets": [ALPHA_VANTAGE_API_KEY],
        }
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # WeasyPrint narrates every rendering step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

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
