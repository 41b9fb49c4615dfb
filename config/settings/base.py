"""Settings shared by every environment. Secrets and deployment specifics come from the environment."""

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

from config.site import site_languages

# --- Paths and environment --------------------------------------------------------------------------
BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

# --- Applications -----------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "knox",
    "django_htmx",
    "csp",
    "core",
    "notifications",
    "marketplace",
    "matching",
    "network",
    "mentoring",
    "api",
    "frontend",
    "seed_data",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.read_only.SessionMiddleware",  # Django's; in read-only mode, sessions are not saved
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "config.middleware.private_answers_not_stored",
    "config.middleware.staff_second_factor_required",
    "config.read_only.ReadOnlyMiddleware",  # last: refuses writes on a mirror, with the page in context
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # frontend/templates first, so that it can restyle allauth's pages.
        "DIRS": [BASE_DIR / "frontend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.context_processors.roles",
                "frontend.context_processors.site",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------
# DATABASES is set per environment: local and test fall back to the embedded PostgreSQL.
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
EMBEDDED_DATABASE_NAME = env("EMBEDDED_DATABASE_NAME", default="chm")

# --- Mirror: read-only mode ------------------------------------------------------------------------
# A mirror serves reads from a PostgreSQL hot standby and refuses writes (config/read_only.py): on when this
# is, and whenever the database is in recovery, re-checked every READ_ONLY_RECHECK_SECONDS so that a
# promoted standby takes writes again without a restart. Retry-After of the refusals, in seconds.
READ_ONLY = env.bool("READ_ONLY", default=False)
READ_ONLY_RECHECK_SECONDS = env.float("READ_ONLY_RECHECK_SECONDS", default=2.0)
READ_ONLY_RETRY_AFTER = env.int("READ_ONLY_RETRY_AFTER", default=300)

# --- Accounts (django-allauth) ----------------------------------------------------------------------
# Proxies in front of the web processes that append the client's address to X-Forwarded-For (the compose
# stack's TLS proxy: 1). Per-address limits (sign-in, API, searches) read the address that many hops from
# the end of the header, so a client cannot forge its way to a fresh limit; 0 trusts no header.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# Demo accounts (a secretariat with a published password) only where local.py and test.py allow them.
DEMO_DATA_ALLOWED = False
AUTH_USER_MODEL = "marketplace.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
# Sign-up asks for the public name; a person without one is asked for it at sign-in (frontend/accounts.py).
ACCOUNT_SIGNUP_FORM_CLASS = "frontend.accounts.SignupForm"
# A new account, signed in by confirming its e-mail address, lands on the welcome page: who does what here,
# and the next step for each role.
ACCOUNT_SIGNUP_REDIRECT_URL = "welcome"
ACCOUNT_ADAPTER = "frontend.accounts.AccountAdapter"
# Two-factor sign-in (allauth's MFA): an authenticator app (TOTP) with recovery codes. Required for staff
# accounts before they reach the workbench or the admin (config/middleware.py); optional for everyone else.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "CHM Matchmaker"

# --- Internationalisation ---------------------------------------------------------------------------
# The six UN languages, in the UN's order (the switcher writes each in its own language: name_local).
# Chinese is simplified Chinese, "zh-hans" (locale folder zh_Hans): a browser asking for "zh" or "zh-CN" gets
# it. Models store the 2-letter "zh" (marketplace.models.content_language).
ALL_LANGUAGES = [
    ("ar", _("Arabic")),
    ("zh-hans", _("Chinese")),
    ("en", _("English")),
    ("fr", _("French")),
    ("ru", _("Russian")),
    ("es", _("Spanish")),
]

# --- A partner's own site (config/site.py): one Party's name, languages and colour ---------------------
SITE_NAME = env("SITE_NAME", default="")  # empty: "CHM Matchmaker", in the reader's language
SITE_PARTY = env("SITE_PARTY", default="")  # the code of the Party this instance serves, shown by its name
SITE_LANGUAGE_CODES = env.list("SITE_LANGUAGES", default=[])  # some of ALL_LANGUAGES, the default first
SITE_ACCENT_COLOUR = env("SITE_ACCENT_COLOUR", default="")  # "#1d4f91": the header and links
LANGUAGES = site_languages(ALL_LANGUAGES, SITE_LANGUAGE_CODES)
LANGUAGE_CODE = LANGUAGES[0][0] if SITE_LANGUAGE_CODES and LANGUAGES else "en"
LOCALE_PATHS = [BASE_DIR / "frontend" / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Content Security Policy (django-csp) -----------------------------------------------------------
# In every environment, so that tests and development run under the production policy: the pages have no
# inline script or style and load nothing from elsewhere. A template that needs an inline block (the API's
# Redoc page) marks it with {{ request.csp_nonce }}.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Cache (rate limits) ----------------------------------------------------------------------------
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Shared by every process when Redis is there, so that rate limits hold across them.
if _redis_url := env("REDIS_URL", default=""):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url}}

# --- E-mail -----------------------------------------------------------------------------------------
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env(
    "DJANGO_DEFAULT_FROM_EMAIL", default="CHM Matchmaker <noreply@chm-matchmaker.example>"
)

# Links in e-mails point here.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# --- Request limits ---------------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Celery -----------------------------------------------------------------------------------------
# Without a broker, tasks run eagerly in-process (the embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers a task whose worker died unacknowledged after `visibility_timeout` seconds: longer than
# the longest task (and retry countdown), or a slow task runs twice. The fault tests shorten it.
CELERY_BROKER_TRANSPORT_OPTIONS = env.json(
    "CELERY_BROKER_TRANSPORT_OPTIONS", default={"visibility_timeout": 3600}
)
# The periodic sweeps' notion of "lost": an instant e-mail still pending, a published posting not yet matched,
# this long after it was written (its task went with a broker or a worker).
NOTIFICATION_REQUEUE_AFTER_SECONDS = 300
MATCHING_REMATCH_AFTER_SECONDS = 120
CELERY_BEAT_SCHEDULE = {
    "close-expired-postings": {"task": "marketplace.tasks.close_expired_postings", "schedule": 3600.0},
    "notify-expiring-postings": {"task": "marketplace.tasks.notify_expiring_postings", "schedule": 86400.0},
    "fit-match-weights": {"task": "matching.tasks.fit_match_weights", "schedule": 86400.0},
    "requeue-pending-notifications": {
        "task": "notifications.tasks.requeue_pending_notifications",
        "schedule": 300.0,
    },
    "match-pending-postings": {"task": "matching.tasks.match_pending_postings", "schedule": 300.0},
    "harvest-partners": {"task": "network.tasks.harvest_partners", "schedule": 3600.0},
    "daily-digest": {
        "task": "notifications.tasks.send_digests",
        "schedule": crontab(hour=6, minute=0),
        "args": ["daily"],
    },
    "weekly-digest": {
        "task": "notifications.tasks.send_digests",
        "schedule": crontab(hour=6, minute=0, day_of_week="monday"),
        "args": ["weekly"],
    },
}

# --- REST framework: deny by default ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # knox's tokens, a wrong one counted by the anonymous throttle; first: an anonymous caller gets 401
        # with WWW-Authenticate
        "api.authentication.TokenAuthentication",
        "api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_METADATA_CLASS": None,  # OPTIONS answers 405: the OpenAPI schema describes every operation
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/minute"),
        "user": env("API_THROTTLE_USER", default="600/minute"),
    },
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
DRF_STANDARDIZED_ERRORS = {"EXCEPTION_HANDLER_CLASS": "api.errors.ExceptionHandler"}
SPECTACULAR_SETTINGS = {
    "TITLE": "CHM Matchmaker API",
    "DESCRIPTION": (
        "Needs and offers of the CBD clearing-house mechanism's technical and scientific cooperation, "
        "their matches, notifications and mentoring. Published postings are open to everyone (also as CSV "
        "and schema.org JSON-LD); everything else needs a session or a personal token "
        "(`Authorization: Token <token>`)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "marketplace.models.Language",
        "TextLanguageEnum": "marketplace.models.TEXT_LANGUAGES",
        "RegionEnum": "marketplace.models.Region",
        "FrequencyEnum": "notifications.models.Frequency",
        "OfferKindEnum": "marketplace.models.OfferKind",
        "NotificationKindEnum": "notifications.kinds.CHOICES",
        "PostingStatusEnum": "marketplace.models.PostingStatus",
        "PairingStatusEnum": "mentoring.models.PairingStatus",
        "RoleRequestStatusEnum": "marketplace.models.RoleRequestStatus",
        "OrganizationTypeEnum": "marketplace.models.OrganizationType",
        "MatchStatusEnum": "matching.models.MatchStatus",
        "MatchResponseEnum": "matching.models.Response",
        "PostingKindEnum": [("need", "need"), ("offer", "offer")],
        "ImportStatusEnum": [("draft", "draft"), ("submitted", "submitted"), ("published", "published")],
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
    },
    "POSTPROCESSING_HOOKS": ["drf_standardized_errors.openapi_hooks.postprocess_schema_enums"],
}
# Personal API tokens: stored hashed, several per user, each with a name and an expiry.
KNOX_TOKEN_MODEL = "marketplace.ApiToken"
REST_KNOX = {
    "TOKEN_MODEL": "marketplace.ApiToken",
    "TOKEN_PREFIX": "chm_",
    "TOKEN_TTL": datetime.timedelta(days=90),
    "AUTO_REFRESH": False,
}
API_IMPORT_MAX_ROWS = 1000
API_SEMANTIC_SEARCH_LIMIT = 100
# Searches by meaning run the model: the pages allow this many per client address ("" for no limit), and a
# query's vector is kept this long, so that paging through the results or the same search again is free.
PAGE_SEARCH_RATE = env("PAGE_SEARCH_RATE", default="20/minute")
QUERY_VECTOR_CACHE_SECONDS = 600
# Anonymous pages (home, browse lists, postings) and the open API answers are kept this long in the cache
# and answered 304 while unchanged; a posting change retires them at once (marketplace/catalogue_cache.py).
# 0 turns both off.
PUBLIC_CACHE_SECONDS = env.int("PUBLIC_CACHE_SECONDS", default=60)

# --- Marketplace ------------------------------------------------------------------------------------
SEED_DATA_DIR = BASE_DIR / "seed_data"
POSTING_DESCRIPTION_MAX_LENGTH = 10_000
POSTING_EXPIRY_WARNING_DAYS = 7
# New needs and offers per user (pages, API and import together; the secretariat is not limited); empty: none.
POSTING_RATE_LIMIT = env("POSTING_RATE_LIMIT", default="30/hour")
# Organization invitations an admin may send in 24 hours (each is an e-mail from the platform's address).
ORGANIZATION_INVITATIONS_PER_DAY = env.int("ORGANIZATION_INVITATIONS_PER_DAY", default=20)

# --- Matching ---------------------------------------------------------------------------------------
# A model name (multilingual-e5-small, all-minilm-l6-v2) or a sentence-transformers folder.
MATCHING_MODEL = env("MATCHING_MODEL", default="multilingual-e5-small")
# Built model folders; default ~/.cache/chm-matchmaker/models (outside the repository).
MATCHING_CACHE_DIR = env("MATCHING_CACHE_DIR", default=None)
# auto, float32, bfloat16 or int8. A faster precision than float32 is kept only if its vectors agree with
# float32's (minimum cosine 0.999 on the calibration anchors, checked at load); auto tries bfloat16 where the
# CPU has it in hardware. Vectors that pass are interchangeable with float32's (same model version).
MATCHING_PRECISION = env("MATCHING_PRECISION", default="auto")
# Load the model as each gunicorn worker and Celery worker process starts (gunicorn.conf.py,
# config/celery_app.py), so that no search by meaning and no publication waits for it; on in production and
# under `make run` (config/run.py).
MATCHING_PRELOAD_ENCODER = env.bool("MATCHING_PRELOAD_ENCODER", default=False)
# Torch threads of each gunicorn worker (gunicorn.conf.py): a web worker encodes one short query at a time,
# and the workers are the parallelism. Torch's default, a thread per core in every worker, makes the
# workers' threads spin against each other on few cores (one query: 63 ms with 1 thread, 319 ms with 2,
# while tests ran on the same 2 cores). The Celery worker keeps torch's default (batches).
MATCHING_WEB_THREADS = env.int("MATCHING_WEB_THREADS", default=1)
MATCHING_CANDIDATES = 100  # retrieved by vector similarity, then re-ranked with the facets
MATCHING_SUGGESTIONS_PER_POSTING = 10
# Postings that matching.tasks.match_pending claims, encodes in one encoder call (batches of 16 inside) and
# matches at a time. 200 needs on 2 idle cores: encoded in 6.6 s by batches of 64, 7.7 s of 16, 8.5 s one
# by one (on busy cores, one by one was 3-4 times slower than either).
MATCHING_BATCH_SIZE = 64
MATCHING_MIN_SCORE = 0.3
MATCHING_EXACT_SCAN_BELOW = 1000  # vectors on the other side; fewer are scanned exactly, no index
# With the index's ef_construction 200: recall@10 0.95 at 100k offers (benchmarks/matching_speed.py).
MATCHING_HNSW_EF_SEARCH = 300
# New suggestions at or above this score are introduced to both sides without waiting for a curator;
# empty to have curators introduce every match.
_auto_introduce = env("MATCHING_AUTO_INTRODUCE_SCORE", default="0.8")
MATCHING_AUTO_INTRODUCE_SCORE = float(_auto_introduce) if _auto_introduce else None
