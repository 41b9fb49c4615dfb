"""`make backup` / `make restore`: pg_dump and pg_restore round trips on a scratch database of the same server
(never the test database that the other tests use)."""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from django.db import connection

from config.backup import BackupError, backup, restore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scratch_database():
    """A new database on the test server (the embedded one, or DATABASE_URL's), named after the configured
    one so that parallel runs with different names do not meet; dropped afterwards."""
    database = {**connection.settings_dict, "NAME": f"{connection.settings_dict['NAME']}_backup_scratch"}
    params = {
        "user": database["USER"] or None,
        "password": database["PASSWORD"] or None,
        "host": database["HOST"] or None,
        "port": database["PORT"] or None,
    }
    admin = psycopg2.connect(dbname="postgres", **params)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{database["NAME"]}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{database["NAME"]}"')
    yield database, params
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{database["NAME"]}" WITH (FORCE)')
    admin.close()


def execute(scratch, sql):
    database, params = scratch
    with psycopg2.connect(dbname=database["NAME"], **params) as db, db.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall() if cursor.description else None
    db.close()
    return rows


POSTINGS = """
    CREATE EXTENSION IF NOT EXISTS vector;
    CREATE TABLE posting (id integer PRIMARY KEY, title text NOT NULL, embedding vector(3));
    CREATE INDEX posting_embedding ON posting USING hnsw (embedding vector_cosine_ops);
    INSERT INTO posting VALUES
        (1, 'Formation des agents des douanes', '[0.1, 0.9, 0.0]'),
        (2, 'Bancos comunitarios de semillas', '[1, 0, 0]'),
        (3, 'Reef mapping', '[0, 0, 1]');
"""
READ = "SELECT id, title, embedding::text FROM posting ORDER BY id"


def test_backup_then_restore_brings_the_data_back(scratch_database, tmp_path):
    database, _params = scratch_database
    execute(scratch_database, POSTINGS)
    before = execute(scratch_database, READ)

    file = backup(database=database, directory=tmp_path)
    execute(
        scratch_database,
        "DELETE FROM posting WHERE id = 1; UPDATE posting SET title = 'changed' WHERE id = 2;"
        "INSERT INTO posting VALUES (4, 'added after the backup', NULL); DROP INDEX posting_embedding;",
    )
    restore(database=database, file=file)

    assert re.fullmatch(rf"{database['NAME']}-\d{{8}}T\d{{6}}Z\.dump", file.name)
    assert file.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert list(tmp_path.iterdir()) == [file]  # no temporary file left beside it
    assert execute(scratch_database, READ) == before
    # The vector index is back, and nearest-neighbour search works on the restored table.
    indexes = "SELECT indexname FROM pg_indexes WHERE tablename = 'posting' ORDER BY indexname"
    assert execute(scratch_database, indexes) == [("posting_embedding",), ("posting_pkey",)]
    assert execute(
        scratch_database, "SELECT id FROM posting ORDER BY embedding <=> '[1, 0.1, 0]' LIMIT 1"
    ) == [(2,)]


def test_a_failed_restore_changes_nothing(scratch_database, tmp_path):
    database, _params = scratch_database
    execute(scratch_database, POSTINGS)
    file = backup(database=database, directory=tmp_path)
    execute(scratch_database, "UPDATE posting SET title = 'kept' WHERE id = 3")
    # Cut inside the table's data, which comes last: pg_restore has dropped and re-created the table by then.
    broken = tmp_path / "broken.dump"
    broken.write_bytes(file.read_bytes()[:-10])

    with pytest.raises(BackupError, match="pg_restore failed"):
        restore(database=database, file=broken)
    with pytest.raises(BackupError, match="no such file"):
        restore(database=database, file=tmp_path / "missing.dump")

    assert execute(scratch_database, "SELECT title FROM posting WHERE id = 3") == [("kept",)]


def test_the_make_targets_command_round_trip(scratch_database, tmp_path):
    """`python -m config.backup`, as `make backup` and `make restore FILE=...` run it, on DATABASE_URL."""
    database, params = scratch_database
    execute(scratch_database, POSTINGS)
    credentials = quote(params["user"] or "") + (
        f":{quote(params['password'])}" if params["password"] else ""
    )
    if (params["host"] or "").startswith("/"):  # a Unix socket, as the embedded server uses
        url = f"postgresql://{credentials}@/{database['NAME']}?host={params['host']}"
    else:
        url = f"postgresql://{credentials}@{params['host']}:{params['port'] or 5432}/{database['NAME']}"
    environment = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}

    def command(*arguments):
        return subprocess.run(
            [sys.executable, "-m", "config.backup", *arguments],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

    dumped = command("backup", "--dir", str(tmp_path))
    execute(scratch_database, "DROP TABLE posting")
    restored = command("restore", dumped.stdout.strip())
    missing = command("restore", str(tmp_path / "missing.dump"))

    assert dumped.returncode == 0, dumped.stderr
    assert Path(dumped.stdout.strip()).parent == tmp_path
    assert restored.returncode == 0, restored.stderr
    assert [row[0] for row in execute(scratch_database, READ)] == [1, 2, 3]
    assert missing.returncode == 1
    assert "no such file" in missing.stderr
