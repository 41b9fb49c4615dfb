"""Processes started by the integration and fault tests (a real Celery worker, gunicorn): the test settings,
with the broker, the database, the SMTP server and the auto-introduction threshold from the environment."""

from .test import *  # noqa: F403
from .test import CELERY_BROKER_URL, DATABASES, env

CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# EMAIL_HOST and EMAIL_PORT come from the environment (base settings).
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
_auto_introduce = env("MATCHING_AUTO_INTRODUCE_SCORE", default="")
MATCHING_AUTO_INTRODUCE_SCORE = float(_auto_introduce) if _auto_introduce else None
# As in production: connections kept between requests and tasks, checked before reuse.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
