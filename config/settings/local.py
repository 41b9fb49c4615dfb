"""Local development: DEBUG on, console e-mail, the embedded PostgreSQL unless DATABASE_URL is set."""

from config import embedded_valkey
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

# The real stack: tasks go to a broker and a worker (`make run` starts both). Without CELERY_BROKER_URL
# and REDIS_URL, the embedded valkey-server is the broker and the shared cache (rate limits).
if not env("CELERY_BROKER_URL", default="") and not env("REDIS_URL", default=""):
    _socket = embedded_valkey.ensure_running()
    CELERY_BROKER_URL = f"redis+socket://{_socket}"
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"unix://{_socket}?db=1",
        }
    }
# Loading the demo data matches in-process (make setup), so the first page already shows suggestions.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
