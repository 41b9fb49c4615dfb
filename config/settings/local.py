"""Local development: DEBUG on, console e-mail, the embedded PostgreSQL unless DATABASE_URL is set."""

from config.embedded_postgres import database_settings

from .base import *  # noqa: F403
from .base import EMBEDDED_DATABASE_NAME, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-development-only-not-secret")
DATABASES = {
    "default": env.db("DATABASE_URL")
    if env("DATABASE_URL", default="")
    else database_settings(name=EMBEDDED_DATABASE_NAME)
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SHOW_DEMO_LOGINS = True
DEMO_DATA_ALLOWED = True
