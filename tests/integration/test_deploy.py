"""Production settings: the deployment checks, the secret key, the security headers, the health endpoint."""

import importlib
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
# Nothing listens on port 1: settings that only parse the URL are fine, a connection attempt fails at once.
UNREACHABLE_DATABASE = "postgresql://chm:secret@127.0.0.1:1/chm"


def production_environment(**overrides):
    """This process's environment without anything that configures the app, plus a production set-up."""
    keep = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "EMBEDDED_", "EMAIL_", "CELERY_"))
        and key not in {"DATABASE_URL", "REDIS_URL", "SITE_URL"}
    }
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": UNREACHABLE_DATABASE,
        "DJANGO_ALLOWED_HOSTS": "chm.example.org",
        **overrides,
    }


def run_python(arguments, environment):
    return subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_on_production_settings_is_clean():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_environment()
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_check_deploy_flags_a_weak_secret_key():
    """The clean result above is a real verdict: the same check fails on a guessable key."""
    environment = production_environment(DJANGO_SECRET_KEY="short")

    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], environment)

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    environment = production_environment()
    del environment["DJANGO_SECRET_KEY"]

    result = run_python(["manage.py", "check"], environment)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.fixture
def production_security(settings, monkeypatch):
    """The test settings with production's security settings, read from config/settings/production.py."""
    for key in [key for key in os.environ if key.startswith("DJANGO_")] + ["REDIS_URL"]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE_DATABASE)
    production = importlib.reload(importlib.import_module("config.settings.production"))
    names = ("SECURE_", "SESSION_COOKIE_", "CSRF_COOKIE_", "CONTENT_SECURITY_POLICY", "X_FRAME_OPTIONS")
    for name in dir(production):
        if name.startswith(names):
            setattr(settings, name, getattr(production, name))
    assert settings.SECURE_SSL_REDIRECT and settings.SECURE_HSTS_SECONDS >= 31536000
    return settings


def test_production_shares_its_cache_through_redis_when_there_is_one(monkeypatch):
    """Rate-limit counters live in the cache: with several processes they must be counted in one place."""
    monkeypatch.setenv("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE_DATABASE)

    def production_cache() -> dict:
        importlib.reload(importlib.import_module("config.settings.base"))  # where the rule lives
        return importlib.reload(importlib.import_module("config.settings.production")).CACHES["default"]

    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/1")
    with_redis = production_cache()
    monkeypatch.delenv("REDIS_URL")
    without = production_cache()

    assert with_redis == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://redis:6379/1",
    }
    assert without["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.django_db
def test_pages_carry_the_security_headers_under_production_settings(production_security):
    client = Client()  # made after the settings change: the security middleware reads them when it loads

    response = client.get("/accounts/login/", secure=True)

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    csrf_cookie = response.cookies["csrftoken"]
    assert csrf_cookie["secure"] is True


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_but_the_health_probe_is_not(production_security):
    client = Client()

    page = client.get("/accounts/login/")
    probe = client.get("/healthz")

    assert page.status_code == 301
    assert page["Location"] == "https://testserver/accounts/login/"
    assert probe.status_code == 200
    assert "Strict-Transport-Security" not in probe  # HSTS is sent over HTTPS only


@pytest.mark.django_db
def test_no_page_has_an_inline_script(client):
    """The policy allows no inline script; the API's documentation pages load theirs from files too."""
    for url in ["/", "/accounts/login/", "/needs/", "/api/v1/docs/", "/api/v1/redoc/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]*)", policy).group(1)
        assert script_src.split() == ["'self'"], (url, policy)
        scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
        assert all("src=" in tag or 'type="application/json"' in tag for tag in scripts), (url, scripts)


@pytest.mark.django_db
def test_health_endpoint_answers_from_the_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    answer = response.json()
    assert answer | {"replication_lag_seconds": None, "standbys": 0} == {  # no standby in tests, usually
        "status": "ok",
        "database": "ok",
        "role": "primary",
        "replication_lag_seconds": None,
        "standbys": 0,
    }
    assert "no-cache" in response["Cache-Control"]


def test_health_endpoint_reports_503_when_the_database_does_not_answer():
    """In a production process whose database is unreachable (nothing listens on its port)."""
    probe = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client().get('/healthz', HTTP_HOST='chm.example.org'); "
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )

    result = run_python(["-c", probe], production_environment())

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"status": 503, "body": {"status": "unavailable", "database": "error"}}
