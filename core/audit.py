"""The curators' audit log: every secretariat action is recorded with the record before and after."""

import datetime
from collections.abc import Iterable, Mapping

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models

from .models import AuditEntry

# A record's fields as JSON-safe values: what `snapshot` returns and `record` stores as before and after.
Snapshot = dict[str, object]


def snapshot(instance: models.Model, fields: Iterable[str]) -> Snapshot:
    """The named fields of a record as JSON-safe values (dates as ISO text)."""
    values: Snapshot = {}
    for field in fields:
        value = getattr(instance, field)
        if isinstance(value, datetime.date | datetime.datetime):
            value = value.isoformat()
        elif isinstance(value, models.Model):
            value = value.pk
        values[field] = value
    return values


def record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    target: models.Model,
    before: Mapping[str, object] | None = None,
    after: Mapping[str, object] | None = None,
) -> AuditEntry:
    model_name = target._meta.model_name
    assert model_name is not None  # None only on the Options of a class not yet made a model
    # The plugin types the AUTH_USER_MODEL key as the configured model (marketplace.User, a layer above
    # core); any user the project passes is one.
    return AuditEntry.objects.create(  # type: ignore[misc]
        actor=actor,
        action=action,
        target_type=model_name,
        target_id=target.pk,
        target_label=str(target)[:300],
        before=before or {},
        after=after or {},
    )
