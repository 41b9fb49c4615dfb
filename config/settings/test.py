"""Tests: the embedded PostgreSQL (pytest-django creates test_<name>) unless DATABASE_URL is set."""

from config.embedded_postgres import database_settings

from .base import *  # noqa: F403
from .base import EMBEDDED_DATABASE_NAME, env

SECRET_KEY = "test-only-not-secret"
DATABASES = {
    "default": env.db("DATABASE_URL")
    if env("DATABASE_URL", default="")
    else database_settings(name=EMBEDDED_DATABASE_NAME)
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = True
SHOW_DEMO_LOGINS = False
DEMO_DATA_ALLOWED = True
MATCHING_PRELOAD_ENCODER = False  # tests load the model when they need it
MATCHING_AUTO_INTRODUCE_SCORE = None  # tests that need it set it; suggestions stay "suggested"
# The throttling test sets its own low rates; the others must not trip over each other's requests.
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"},
}
POSTING_RATE_LIMIT = "100000/hour"  # tests/api/test_hostile_input.py sets a low one
