"""Reads of the audit log (for the secretariat: the views check the role)."""

from django.db.models import QuerySet

from .models import AuditEntry


def audit_entries(*, action: str = "") -> QuerySet[AuditEntry]:
    """Every curator action, newest first, with its actor; only those of `action` when one is given."""
    entries = AuditEntry.objects.select_related("actor")
    return entries.filter(action=action) if action else entries


def audit_actions() -> list[str]:
    """The actions the log holds, for a filter's choices."""
    return list(AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct())
