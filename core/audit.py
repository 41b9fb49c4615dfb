"""The curators' audit log: every secretariat action is recorded with the record before and after."""

import datetime
from collections.abc import Iterable

from django.db import models

from .models import AuditEntry


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict:
    """The named fields of a record as JSON-safe values (dates as ISO text)."""
    values = {}
    for field in fields:
        value = getattr(instance, field)
        if isinstance(value, datetime.date | datetime.datetime):
            value = value.isoformat()
        elif isinstance(value, models.Model):
            value = value.pk
        values[field] = value
    return values


def record(
    *, actor, action: str, target: models.Model, before: dict | None = None, after: dict | None = None
):
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        target_type=target._meta.model_name,
        target_id=target.pk,
        target_label=str(target)[:300],
        before=before or {},
        after=after or {},
    )
