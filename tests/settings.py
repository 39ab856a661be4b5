"""Settings for the test suite: the real settings with a test secret, in-memory SQLite and the offline brain."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-for-the-audio-chat-suite-only-0123456789")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
os.environ.setdefault("GEMINI_API_KEY", "")
os.environ.pop("REDIS_URL", None)

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests run with DEBUG off but without collectstatic: serve static files from the apps' folders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"caller": "100000/min"}}  # noqa: F405
REST_REFUSED_RATE_LIMIT = "100000/min"  # access-matrix tests are refused hundreds of times from one address
SECURE_SSL_REDIRECT = False  # the test client speaks plain http
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
