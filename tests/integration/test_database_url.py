"""DATABASE_URL switches the same code to another PostgreSQL: here a second database reached by URL."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "chm_external_check"


@pytest.fixture
def external_database(django_db_blocker):
    with django_db_blocker.unblock():
        host = connection.settings_dict["HOST"] or connection.settings_dict.get("OPTIONS", {}).get("host", "")
    admin = psycopg2.connect(dbname="postgres", user="postgres", host=host)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    yield f"postgresql://postgres@/{DATABASE}?host={host}", host
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    admin.close()


def test_database_url_points_migrations_and_seed_data_at_that_database(external_database):
    url, host = external_database
    environment = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}

    for command in (["migrate", "--no-input", "-v0"], ["load_seed_data"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=environment, check=True)

    with psycopg2.connect(dbname=DATABASE, user="postgres", host=host) as check, check.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM marketplace_party")
        assert cursor.fetchone()[0] == 196
