"""`manage.py migrate` refuses a database made before the apps were split (its recorded migrations no longer
exist) with a message saying how to recreate it, rather than half-migrating it."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

pytestmark = pytest.mark.django_db


def test_a_database_of_the_old_layout_is_refused_with_the_way_out():
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('marketplace', '0006_organization_approval', now())"
        )
    with pytest.raises(CommandError, match=r"older layout.*make clean") as refused:
        call_command("migrate", verbosity=0)
    assert "marketplace.0006_organization_approval" in str(refused.value)


def test_a_database_of_this_layout_migrates():
    call_command("migrate", verbosity=0)  # nothing to do, and no refusal
