"""Settings for audio-chat, read from the environment (12-factor); see the README's configuration table."""

from __future__ import annotations

from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

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
    "audio_chat",
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
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

REDIS_URL: str = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}},
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

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
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "audio_chat.api.errors.exception_handler",
}

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
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

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
OFFLINE_VOICE: str = env.str("OFFLINE_VOICE", default="joe")  # "joe" (neural) or "espeak"
SPEAKING_RATE: float = env.float("SPEAKING_RATE", default=0.9)  # 1.0 is the voice's own pace; children like slower
VAD_AGGRESSIVENESS: int = env.int("VAD_AGGRESSIVENESS", default=3)  # webrtcvad 0-3
VAD_ONSET_MS: int = env.int("VAD_ONSET_MS", default=120)
VAD_HANGOVER_MS: int = env.int("VAD_HANGOVER_MS", default=300)
STT_DECODERS: int = env.int("STT_DECODERS", default=3)  # about 90 MB each, shared by all connections
REPLY_LEAD_SECONDS: float = env.float("REPLY_LEAD_SECONDS", default=0.3)

# --- Gemini Live ------------------------------------------------------------------------------------
GEMINI_CA_FILE: str = env.str("GEMINI_CA_FILE", default="")  # extra CA to trust (the local emulator)
LIVE_START_SENSITIVITY: str = env.str("LIVE_START_SENSITIVITY", default="START_SENSITIVITY_HIGH")
LIVE_END_SENSITIVITY: str = env.str("LIVE_END_SENSITIVITY", default="END_SENSITIVITY_HIGH")
LIVE_SILENCE_DURATION_MS: int | None = env.int("LIVE_SILENCE_DURATION_MS", default=None)
LIVE_STALL_SECONDS: float = env.float("LIVE_STALL_SECONDS", default=15.0)
LIVE_HANDLE_MAX_AGE_SECONDS: int = env.int("LIVE_HANDLE_MAX_AGE_SECONDS", default=2 * 3600 - 300)

# Raw microphone audio is never stored unless this names a folder (debugging, browser tests).
AUDIO_ARCHIVE_DIR: str = env.str("AUDIO_ARCHIVE_DIR", default="")

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
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD: bool = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
