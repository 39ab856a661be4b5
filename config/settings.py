"""Settings for audio-chat, read from the environment (12-factor); see the README's configuration table."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, cast

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

from voice.speech.native_threads import UnsafeNumericThreads, check_blas_threads, pin_blas_threads

# Lets admin classes and querysets be subscripted at run time (ModelAdmin[Level]) for the type checker.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

DEBUG: bool = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "django-insecure-audio-chat-development-only"  # noqa: S105 (DEBUG only; refused otherwise)
SECRET_KEY: str = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or DEBUG=true for local development."
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        "SECRET_KEY must be a real secret: at least 50 characters, not repetitive, not a django-insecure key."
    )

ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "audio_chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a locked-out admin login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

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

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Every conversation write goes through one database thread; opening and closing a connection around each
# one cost about a tenth of the service's CPU at 100 children (docs/performance.md).
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=300))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads write at once (REST requests, database_sync_to_async). A deferred transaction that turns
    # into a write fails at once with "database is locked", whatever the timeout; an immediate one waits its
    # turn. WAL lets readers go on while one writes; with WAL, synchronous=NORMAL is still safe from corruption
    # and spares an fsync on every stored turn.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            # secure_delete overwrites deleted rows with zeros, so an erased transcript does not linger in free
            # pages of the database file (erasure also checkpoints the WAL: audio_chat.services.session_delete).
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;",
        }
    )

REDIS_URL: str = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}},
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# uvicorn workers on this machine (config/serve.py sets it for the workers it starts): each takes its share of cores.
SERVER_WORKERS: int = max(1, env.int("WEB_CONCURRENCY", default=1))
if SERVER_WORKERS > 1 and not REDIS_URL:
    from config.serve import NEEDS_SHARED_BACKENDS

    raise ImproperlyConfigured(NEEDS_SHARED_BACKENDS.format(workers=SERVER_WORKERS))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["audio_chat.api.permissions.GameBackendAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["audio_chat.api.throttles.CallerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"caller": env.str("REST_RATE_LIMIT", default="120/min")},
    # uvicorn already puts the client's address in REMOTE_ADDR from the X-Forwarded-For of a trusted proxy
    # (--forwarded-allow-ips); DRF must not read the header itself, or each forged value would get a fresh bucket.
    "NUM_PROXIES": 0,
    "DEFAULT_PARSER_CLASSES": [
        "audio_chat.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "audio_chat.api.pagination.ClampedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "audio_chat.api.errors.exception_handler",
}

# The schema, Swagger UI and Redoc: open to anyone in DEBUG, and only with an API key otherwise (unless opened).
API_DOCS_PUBLIC: bool = env.bool("API_DOCS_PUBLIC", default=DEBUG)

SPECTACULAR_SETTINGS = {
    "TITLE": "audio-chat API",
    "DESCRIPTION": (
        "REST API of the audio-chat voice helper. Game backends authenticate with an API key: "
        "`Authorization: Api-Key <key>` (create one with `manage.py create_api_key NAME`). The WebSocket protocol is "
        "documented in docs/websocket-protocol.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The system's fonts: Redoc's own (Montserrat, Roboto) would come from Google Fonts.
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {"fontFamily": "system-ui, sans-serif", "headings": {"fontFamily": "system-ui, sans-serif"}}
        }
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ApiKeyAuth": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Api-Key <key>`",
            }
        },
    },
    "SECURITY": [{"ApiKeyAuth": []}],
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny" if API_DOCS_PUBLIC else "audio_chat.api.permissions.GameBackendAccess"
    ],
}

# Client tokens travel in WebSocket URLs (?token=) for clients that cannot send a header: every handler scrubs
# them. The server's own handlers (uvicorn's access and WebSocket lines) get the same filter in config/asgi.py.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub_secrets": {"()": "config.log_filters.ScrubSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["scrub_secrets"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
# Django's own DEBUG console handler would print every django.request warning a second time (the root prints it).
LOGGING["loggers"] = {**cast(dict[str, Any], LOGGING.get("loggers", {})), "django": {"handlers": [], "propagate": True}}

# --- The helper -----------------------------------------------------------------------------------
GEMINI_API_KEY: str = env.str("GEMINI_API_KEY", default="")
# "auto" picks Gemini when a key is set and the offline brain otherwise.
BRAIN_MODE: str = env.str("BRAIN_MODE", default="auto")
GEMINI_API_VERSION: str = env.str("GEMINI_API_VERSION", default="v1beta")
# Tried in order; a model that answers "not found" or "retired" hands over to the next one.
LIVE_MODELS: list[str] = env.list(
    "LIVE_MODELS",
    default=[
        "gemini-2.5-flash-native-audio-preview-09-2025",
        "gemini-3.8-live",
        "gemini-2.5-flash-native-audio-latest",
    ],
)
TEXT_MODELS: list[str] = env.list(
    "TEXT_MODELS",
    default=["gemini-2.0-flash", "gemini-3.5-flash", "gemini-3.1-flash-lite"],
)
GEMINI_VOICE: str = env.str("GEMINI_VOICE", default="Charon")
GEMINI_BASE_URL: str = env.str("GEMINI_BASE_URL", default="")
GEMINI_TIMEOUT_SECONDS: float = env.float("GEMINI_TIMEOUT_SECONDS", default=20.0)

HINT_SIMILARITY_FLOOR: float = env.float("HINT_SIMILARITY_FLOOR", default=0.35)
HISTORY_TURNS_FOR_BRAIN: int = env.int("HISTORY_TURNS_FOR_BRAIN", default=40)
CLIENT_TOKEN_TTL_SECONDS: int = env.int("CLIENT_TOKEN_TTL_SECONDS", default=3600)
MAX_TEXT_MESSAGE_CHARS: int = env.int("MAX_TEXT_MESSAGE_CHARS", default=2000)

# --- The offline engine (speech in and out without any cloud) ----------------------------------------
# Before anything loads numpy: a multi-threaded OpenBLAS deadlocks when the process forks mid-multiply.
pin_blas_threads()
try:
    check_blas_threads()
except UnsafeNumericThreads as unsafe:
    raise ImproperlyConfigured(str(unsafe)) from None
OFFLINE_VOICE: str = env.str("OFFLINE_VOICE", default="joe")  # "joe" (neural) or "espeak"
SPEAKING_RATE: float = env.float("SPEAKING_RATE", default=0.9)  # 1.0 is the voice's own pace; children like slower
VAD_AGGRESSIVENESS: int = env.int("VAD_AGGRESSIVENESS", default=3)  # webrtcvad 0-3
VAD_ONSET_MS: int = env.int("VAD_ONSET_MS", default=120)
VAD_HANGOVER_MS: int = env.int("VAD_HANGOVER_MS", default=300)
# Whisper worker processes (about 150 MB each) shared by all connections of one uvicorn worker: the machine's cores
# divided among the uvicorn workers, so W workers on C cores run C decoders in all, not W * C.
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else max(1, os.cpu_count() or 1)
STT_DECODERS: int = env.int("STT_DECODERS", default=0) or max(1, _CORES // SERVER_WORKERS)
# Health: probe recognition through a worker at most this often (seconds); a failure stays visible a minute.
ENGINE_PROBE_SECONDS: float = env.float("ENGINE_PROBE_SECONDS", default=10.0)
REPLY_LEAD_SECONDS: float = env.float("REPLY_LEAD_SECONDS", default=0.3)

# --- Gemini Live ------------------------------------------------------------------------------------
GEMINI_CA_FILE: str = env.str("GEMINI_CA_FILE", default="")  # extra CA to trust (the local emulator)
LIVE_START_SENSITIVITY: str = env.str("LIVE_START_SENSITIVITY", default="START_SENSITIVITY_HIGH")
LIVE_END_SENSITIVITY: str = env.str("LIVE_END_SENSITIVITY", default="END_SENSITIVITY_HIGH")
LIVE_SILENCE_DURATION_MS: int | None = env.int("LIVE_SILENCE_DURATION_MS", default=None)
LIVE_STALL_SECONDS: float = env.float("LIVE_STALL_SECONDS", default=15.0)
LIVE_HANDLE_MAX_AGE_SECONDS: int = env.int("LIVE_HANDLE_MAX_AGE_SECONDS", default=2 * 3600 - 300)
# Barge-in: the bridge's own detection of the child speaking over a reply the client still plays (bench.bargein).
BARGE_IN_VAD_AGGRESSIVENESS: int = env.int("BARGE_IN_VAD_AGGRESSIVENESS", default=3)  # webrtcvad 0-3
BARGE_IN_MIN_SPEECH_MS: int = env.int("BARGE_IN_MIN_SPEECH_MS", default=120)
BARGE_IN_MIN_LEVEL_DBFS: float = env.float("BARGE_IN_MIN_LEVEL_DBFS", default=-40.0)
# Emotion-aware replies and proactive audio, where the Live model offers them (2.5 native audio, on v1alpha:
# the API version is switched for those sessions only). Off by default.
LIVE_AFFECTIVE_DIALOG: bool = env.bool("LIVE_AFFECTIVE_DIALOG", default=False)
LIVE_PROACTIVE_AUDIO: bool = env.bool("LIVE_PROACTIVE_AUDIO", default=False)

# Raw microphone audio is never stored unless this names a folder (debugging, browser tests).
AUDIO_ARCHIVE_DIR: str = env.str("AUDIO_ARCHIVE_DIR", default="")
# Screenshots the game shares are shown to the model and forgotten, unless this names a folder (children's
# screens can show names and faces). Erasing a session erases its kept pictures.
IMAGE_ARCHIVE_DIR: str = env.str("IMAGE_ARCHIVE_DIR", default="")
MAX_IMAGE_BYTES: int = env.int("MAX_IMAGE_BYTES", default=5 * 1024 * 1024)
MAX_IMAGE_PIXELS: int = env.int("MAX_IMAGE_PIXELS", default=16_000_000)
IMAGE_MAX_SIDE: int = env.int("IMAGE_MAX_SIDE", default=1024)
IMAGES_PER_MINUTE: int = env.int("IMAGES_PER_MINUTE", default=6)  # per session, over REST and WebSocket together

# --- Access and limits ------------------------------------------------------------------------------
# Browser origins allowed on the WebSocket besides the ALLOWED_HOSTS (e.g. https://game.example.com).
WEBSOCKET_ALLOWED_ORIGINS: list[str] = env.list("WEBSOCKET_ALLOWED_ORIGINS", default=[])
# A client that keeps its token out of the URL sends it as its first message ({"type":"auth"}) within this time.
WEBSOCKET_AUTH_SECONDS: float = env.float("WEBSOCKET_AUTH_SECONDS", default=10.0)
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MAX_CONNECTIONS_PER_SESSION: int = env.int("MAX_CONNECTIONS_PER_SESSION", default=2)
# Back-pressure (voice/load.py): a worker whose event loop runs this late (95th percentile over 2 s; 0: never) or
# that holds this many WebSockets (0: no cap) refuses new ones with close 1013, and /api/health/ answers 503 once
# every worker on the machine does. Refused clients are told to retry after OVERLOAD_RETRY_SECONDS.
OVERLOAD_LAG_MS: float = env.float("OVERLOAD_LAG_MS", default=0.0)
MAX_CONNECTIONS_PER_WORKER: int = env.int("MAX_CONNECTIONS_PER_WORKER", default=0)
OVERLOAD_RETRY_SECONDS: int = env.int("OVERLOAD_RETRY_SECONDS", default=5)
DAILY_SPEAKING_MINUTES: int = env.int("DAILY_SPEAKING_MINUTES", default=30)
MAX_FRAMES_PER_SECOND: float = env.float("MAX_FRAMES_PER_SECOND", default=100.0)
MAX_AUDIO_BYTES_PER_SECOND: float = env.float("MAX_AUDIO_BYTES_PER_SECOND", default=64_000.0)
# The helper's voice when a client asks for Opus (?codec=opus): bits per second and encoder complexity (0-10), both
# measured in docs/benchmarks.md ("Opus on the wire").
OPUS_BITRATE: int = env.int("OPUS_BITRATE", default=24_000)
OPUS_COMPLEXITY: int = env.int("OPUS_COMPLEXITY", default=3)
SESSION_RETENTION_DAYS: int = env.int("SESSION_RETENTION_DAYS", default=30)

# --- Production hardening (manage.py check --deploy is clean with the README's production settings) ------
if not DEBUG:
    SECURE_SSL_REDIRECT: bool = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS: int = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    # Both bind every subdomain (and, once preloaded, browsers for months): the operator opts in.
    SECURE_HSTS_INCLUDE_SUBDOMAINS: bool = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD: bool = env.bool("SECURE_HSTS_PRELOAD", default=False)
    # check --deploy warns about both; leaving them off is a decision documented in docs/deployment.md.
    SILENCED_SYSTEM_CHECKS: list[str] = [
        *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
        *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
    ]
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every response: only this origin's scripts, styles and connections (the demo page's
# AudioWorklet modules are scripts; its WebSocket goes to the same host, which 'self' covers). The API docs pages
# widen it for themselves (config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'", "blob:"],
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# The demo page needs the microphone of its own origin; nothing needs the rest.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "microphone": ["self"],
    "autoplay": ["self"],
    "camera": [],
    "geolocation": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "midi": [],
    "display-capture": [],
    "fullscreen": [],
}

# Admin login: after ADMIN_LOGIN_FAILURE_LIMIT wrong passwords from one address, that address is locked out of
# the admin for ADMIN_LOCKOUT_MINUTES (django-axes, attempts kept in the database so every worker sees them).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT: int = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("ADMIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True

# REST calls refused for want of valid credentials, per address, before credentials are even checked.
REST_REFUSED_RATE_LIMIT: str = env.str("REST_REFUSED_RATE_LIMIT", default="30/min")
