"""`migrate`, refusing a database whose recorded migrations of this project's apps no longer exist: the
migrations were rebuilt when the apps were split (core, notifications, marketplace, matching, mentoring),
and migrating such a database would leave it half in the old layout."""

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections
from django.db.migrations.loader import MigrationLoader

PROJECT_APPS = ("core", "notifications", "marketplace", "matching", "mentoring")


def unknown_migrations(database: str) -> list[str]:
    """Migrations of the project's apps recorded in the database but absent from the code."""
    loader = MigrationLoader(connections[database], ignore_no_migrations=True)
    return sorted(
        f"{app}.{name}"
        for app, name in loader.applied_migrations
        if app in PROJECT_APPS and (app, name) not in loader.disk_migrations
    )


class Command(MigrateCommand):
    def handle(self, *args: Any, **options: Any) -> str | None:
        unknown = unknown_migrations(options["database"])
        if unknown:
            raise CommandError(
                "This database was made by an older layout of the code (its migrations "
                f"{', '.join(unknown[:3])}{'…' if len(unknown) > 3 else ''} no longer exist). "
                "Recreate it: for the local embedded database, `make clean` then `make run` "
                "(the demo data is loaded again)."
            )
        return super().handle(*args, **options)
