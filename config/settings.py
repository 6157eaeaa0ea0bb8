"""Tremor settings, read from the environment (see README, "Settings")."""

import importlib.util
import ipaddress
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from common.logging import logging_config

from .env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # A key drawn per process would differ between gunicorn workers: dedupe would work
        # per worker, and sessions and signed messages would fail on the other workers.
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off"
            " (./tremor up keeps one in var/secret_key; DEBUG=1 for development)"
        )
    # Development: a throwaway key. Fingerprints (HMAC with this key)
    # then change at every restart, which only shortens the dedupe memory.
    SECRET_KEY = "dev-" + get_random_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Tremor's apps, by purpose (docs/architecture.md): intake, the numbers, the read side, webhooks;
    # demo data and research (NAB) only bring management commands.
    "reports",
    "analytics",
    "public",
    "webhooks",
    "official",
    "demo",
    "research",
]

MIDDLEWARE = [
    # /health/, /health/ready/ and /metrics, before host checks and HTTPS redirects (ops.middleware).
    "ops.middleware.OpsEndpointsMiddleware",
    "common.logging.RequestIdMiddleware",
    "common.metrics.RequestMetricsMiddleware",
    "common.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "common.security.EmbeddableFramesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "common.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tremor.sqlite3'}"),
        # Persistent connections: a new connection per request costs 8x (MEASURED.md).
        conn_max_age=env_int("DB_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server read while a Celery worker writes buckets.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "config.redis_cache.RedisCache",  # one redis.Redis per pool, not per call
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("TREMOR_CACHE_PREFIX", "tremor"),
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# plotly.js straight from the installed plotly package (/static/plotly/plotly.min.js), so the
# charts' JavaScript always matches the pinned plotly version; no CDN anywhere.
PLOTLY_PACKAGE_DATA = Path(importlib.util.find_spec("plotly").submodule_search_locations[0]) / "package_data"
STATICFILES_DIRS = [BASE_DIR / "static", ("plotly", PLOTLY_PACKAGE_DATA)]
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
# Tests and `runserver` serve files straight from the finders.
WHITENOISE_USE_FINDERS = DEBUG or env_bool("TREMOR_STATIC_FINDERS", False)

# --- Security (production = DEBUG off) ---------------------------------------
# TREMOR_HTTPS=0 serves plain HTTP on loopback (./tremor up, tests) with
# otherwise production settings.
HTTPS = env_bool("TREMOR_HTTPS", not DEBUG)
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): our own static assets only, no inline scripts.
# plotly.js writes inline styles, hence 'unsafe-inline' for styles (never for scripts).
# Embed pages (@xframe_options_exempt) get frame-ancestors TREMOR_EMBED_FRAME_ANCESTORS
# instead of 'none' (common.security).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        # blob: plotly's "download plot as PNG" draws the chart through a blob image.
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
TREMOR_EMBED_FRAME_ANCESTORS = env_list("TREMOR_EMBED_FRAME_ANCESTORS", ["*"])

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    # API tokens stored hashed (reports.tokens); `Authorization: Token <key>`.
    "DEFAULT_AUTHENTICATION_CLASSES": ["reports.tokens.ApiTokenAuthentication"],
    # Reads are limited per token (read_token) or per client address (read_anon).
    "DEFAULT_THROTTLE_CLASSES": ["reports.api.throttles.ReadThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["common.api.parsers.StrictJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "common.api.negotiation.EmptyAcceptIsAny",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["common.api.filters.StrictFilterBackend"],
    "EXCEPTION_HANDLER": "common.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "report_submit": env_str("TREMOR_REPORT_THROTTLE", "10/min"),
        "report_form": env_str("TREMOR_FORM_THROTTLE", "30/min"),
        "read_token": env_str("TREMOR_READ_THROTTLE_TOKEN", "600/min"),
        "read_anon": env_str("TREMOR_READ_THROTTLE_ANON", "60/min"),
        "bulk": env_str("TREMOR_BULK_THROTTLE", "60/min"),
    },
    "NUM_PROXIES": env_int("TREMOR_NUM_PROXIES", 0),
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    # Regions appear in several serializers and filters: one schema enum for all.
    "ENUM_NAME_OVERRIDES": {
        "RegionEnum": "reports.regions.REGIONS",
        "OfficialStatusEnum": "official.models.Status.values",
        # Pinned: the official status also has a field named status.
        "StatusEnum": "analytics.models.Incident.Status",
    },
    "TITLE": "Tremor API",
    "DESCRIPTION": "Crowd outage reports: intake, time series, breakdowns.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Assets from drf-spectacular-sidecar: the docs work without internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # 400/401/403/404/413/429/503 on every operation that can give them.
        "common.api.schema_errors.add_error_responses",
    ],
}

# --- Tremor ---------------------------------------------------------------------
TREMOR_DEDUPE_WINDOW_SECONDS = env_int("TREMOR_DEDUPE_WINDOW_SECONDS", 15 * 60)
# Counted reports per network (an IPv4 address, an IPv6 /64) per service and dedupe window,
# whatever its User-Agents or addresses inside the /64. 5: a household's people and devices
# all fit; a carrier NAT's subscribers do not, but an outage is seen as excess over the
# baseline across many networks (the baseline is learnt from the same capped counts), so
# capping one address costs little signal and bounds what one client can add: 20 an hour.
TREMOR_DEDUPE_PER_NETWORK = env_int("TREMOR_DEDUPE_PER_NETWORK", 5)
TREMOR_BULK_MAX_ITEMS = 1000
TREMOR_MAX_BODY_BYTES = 64 * 1024
# 1,000 reports of ~120 bytes do not fit in 64 KiB: bulk intake gets its own cap.
TREMOR_MAX_BULK_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = TREMOR_MAX_BULK_BODY_BYTES
# Reports whose minute is younger than this may still be arriving (commit lag,
# bulk observed_at up to a minute ahead): each bucketing run revisits them.
TREMOR_BUCKET_OVERLAP_SECONDS = env_int("TREMOR_BUCKET_OVERLAP_SECONDS", 180)
# PostgreSQL work_mem of a bucketing statement: a day of reports sorts in memory.
TREMOR_BUCKET_WORK_MEM_MB = env_int("TREMOR_BUCKET_WORK_MEM_MB", 64)
# Incident lifecycle: resolved after this many minutes back near the baseline;
# a relapse within the merge gap reopens it as a new phase.
TREMOR_INCIDENT_RECOVERY_MINUTES = env_int("TREMOR_INCIDENT_RECOVERY_MINUTES", 15)
TREMOR_INCIDENT_MERGE_HOURS = env_int("TREMOR_INCIDENT_MERGE_HOURS", 2)
# The durable intake log (reports.intake_log): "auto" acknowledges single reports from a
# Redis Stream when Redis fsyncs every write (AOF, appendfsync always; checked, else each
# report is INSERTed directly); "off" always INSERTs directly.
TREMOR_INTAKE_LOG = env_str("TREMOR_INTAKE_LOG", "auto")
if TREMOR_INTAKE_LOG not in ("auto", "off"):
    raise ImproperlyConfigured(f"TREMOR_INTAKE_LOG: 'auto' or 'off', not {TREMOR_INTAKE_LOG!r}")
# The flusher (reports.flusher): entries per batch, and how long an entry delivered to a
# flusher may stay unacknowledged before another takes it over (that one died mid-batch).
TREMOR_FLUSH_BATCH = env_int("TREMOR_FLUSH_BATCH", 2000)
TREMOR_FLUSH_RECLAIM_SECONDS = env_float("TREMOR_FLUSH_RECLAIM_SECONDS", 30.0)
# Services per detection task: the tick fans out in batches of this size.
TREMOR_TICK_BATCH = env_int("TREMOR_TICK_BATCH", 100)
# Profile fits the tick may do per minute, across all its batches and workers (~70 ms each);
# the rest are fitted by fit_profiles_ahead, for at most TREMOR_FIT_AHEAD_SECONDS a run
# (analytics.fitting). Meanwhile a service scores with its previous profiles.
TREMOR_TICK_FITS = env_int("TREMOR_TICK_FITS", 10)
TREMOR_FIT_AHEAD_SECONDS = env_int("TREMOR_FIT_AHEAD_SECONDS", 30)
# Webhooks (webhooks): 5 s per attempt, exponential backoff with jitter for 24 h.
TREMOR_WEBHOOK_TIMEOUT_SECONDS = env_float("TREMOR_WEBHOOK_TIMEOUT_SECONDS", 5.0)
TREMOR_WEBHOOK_BACKOFF_SECONDS = env_float("TREMOR_WEBHOOK_BACKOFF_SECONDS", 30.0)
TREMOR_WEBHOOK_BACKOFF_MAX_SECONDS = env_float("TREMOR_WEBHOOK_BACKOFF_MAX_SECONDS", 3600.0)
TREMOR_WEBHOOK_RETRY_WINDOW_SECONDS = env_float("TREMOR_WEBHOOK_RETRY_WINDOW_SECONDS", 24 * 3600.0)
TREMOR_WEBHOOK_DISABLE_AFTER_FAILURES = env_int("TREMOR_WEBHOOK_DISABLE_AFTER_FAILURES", 50)
TREMOR_WEBHOOK_LOG_DAYS = env_int("TREMOR_WEBHOOK_LOG_DAYS", 30)
# Loopback and private targets are for development and tests only (no SSRF into our network).
TREMOR_WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("TREMOR_WEBHOOK_ALLOW_PRIVATE_TARGETS", DEBUG)

# Official status pages (official): polled every 2-5 minutes, politely (docs/official.md).
TREMOR_OFFICIAL_POLL_SECONDS = env_int("TREMOR_OFFICIAL_POLL_SECONDS", 180)
if not 120 <= TREMOR_OFFICIAL_POLL_SECONDS <= 300:
    raise ImproperlyConfigured("TREMOR_OFFICIAL_POLL_SECONDS must be between 120 and 300 (every 2 to 5 minutes)")
TREMOR_OFFICIAL_BACKOFF_MAX_SECONDS = env_int("TREMOR_OFFICIAL_BACKOFF_MAX_SECONDS", 3600)
TREMOR_OFFICIAL_TIMEOUT_SECONDS = env_float("TREMOR_OFFICIAL_TIMEOUT_SECONDS", 5.0)
TREMOR_OFFICIAL_MAX_BYTES = env_int("TREMOR_OFFICIAL_MAX_BYTES", 1_000_000)
# At most this many requests to one host per minute, however many services share it.
TREMOR_OFFICIAL_PER_HOST_PER_MINUTE = env_int("TREMOR_OFFICIAL_PER_HOST_PER_MINUTE", 2)
# Like webhooks: loopback and private pages for development and tests only; link-local never.
TREMOR_OFFICIAL_ALLOW_PRIVATE_TARGETS = env_bool("TREMOR_OFFICIAL_ALLOW_PRIVATE_TARGETS", DEBUG)
# The demo service's status page (demo.official_page), served by the web process for ./tremor up only.
TREMOR_DEMO_STATUS_PAGE = env_bool("TREMOR_DEMO_STATUS_PAGE", DEBUG)
TREMOR_DEMO_STATUS_URL = env_str("TREMOR_DEMO_STATUS_URL", "http://127.0.0.1:8000/demo/status-page")

# --- Celery -----------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Webhook HTTP calls get their own queue and workers: a slow endpoint never delays bucketing or detection.
# Polling status pages is outbound HTTP too: same queue, so a stalled page never delays detection.
CELERY_TASK_ROUTES = {"webhooks.tasks.*": {"queue": "webhooks"}, "official.tasks.poll": {"queue": "webhooks"}}
# The whole beat schedule, one entry per periodic job.
CELERY_BEAT_SCHEDULE = {
    # Aggregate closed minutes of raw reports into the bucket table.
    "bucket-reports": {"task": "analytics.tasks.bucket_reports", "schedule": crontab()},
    # Score every active service's last minutes and open/update/resolve incidents.
    "detect-tick": {"task": "analytics.tasks.detect_tick", "schedule": crontab()},
    # Fit the profiles the tick needs and has not stored yet (after a deploy: every service's).
    "fit-profiles-ahead": {"task": "analytics.tasks.fit_profiles_ahead", "schedule": crontab()},
    # Webhooks: fan out lost events, resend due retries, prune logs past TREMOR_WEBHOOK_LOG_DAYS.
    "webhooks-sweep": {"task": "webhooks.tasks.sweep", "schedule": crontab()},
    # Official status pages: queue a poll of each source that is due (each every 2-5 min, backoff on errors).
    "official-poll-due": {"task": "official.tasks.poll_due", "schedule": crontab()},
}

# Beat's state file: var/ by default; the image sets a path its non-root user may write.
CELERY_BEAT_SCHEDULE_FILENAME = env_str("TREMOR_BEAT_SCHEDULE", str(VAR_DIR / "celerybeat-schedule"))
CELERY_WORKER_CONCURRENCY = env_int("TREMOR_WORKER_CONCURRENCY", 2)

# Celery's workers and beat log through this too (config/celery.py), gunicorn through config/gunicorn.py.
# One JSON object a line (time, level, logger, message, request_id, role): common/logging.py.
LOGGING_CONFIG = "common.logging.configure"
LOGGING = logging_config(level=env_str("LOG_LEVEL", "INFO"), fmt=env_str("TREMOR_LOG_FORMAT", "json"))

# --- Operations (ops/) ----------------------------------------------------------------
# /metrics answers a bearer token, or these addresses (the scraper's, not through a proxy).
TREMOR_METRICS_TOKEN = env_str("TREMOR_METRICS_TOKEN", "")
TREMOR_METRICS_ALLOW = env_list("TREMOR_METRICS_ALLOW", ["127.0.0.1/32", "::1/128"])
try:
    [ipaddress.ip_network(net, strict=False) for net in TREMOR_METRICS_ALLOW]
except ValueError as exc:
    raise ImproperlyConfigured(f"TREMOR_METRICS_ALLOW: {exc}") from None
