"""Limits, stated once. A text a person writes to another has one limit everywhere; every other limit is
stated on its model field (max_length, validators), and the forms and the API's serializers read it from
there with `field_limits`, so that a page and the API refuse exactly what the model refuses."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext as _

# What one person writes to another: a message with an answer, a note, the reason for a decision.
MESSAGE_MAX_LENGTH = 2000


def field_limits(model: type[models.Model], name: str) -> dict[str, Any]:
    """The limits of a model field as keyword arguments of a form or serializer field: `max_length`, and
    `min_value`/`max_value` (the strictest of its validators)."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{name} is a field of {model.__name__}, not a reverse relation"
    limits: dict[str, Any] = {}
    lengths = [v.limit_value for v in field.validators if isinstance(v, MaxLengthValidator)]
    if getattr(field, "max_length", None):
        lengths.append(field.max_length)
    if lengths:
        limits["max_length"] = min(lengths)
    minimums = [v.limit_value for v in field.validators if isinstance(v, MinValueValidator)]
    maximums = [v.limit_value for v in field.validators if isinstance(v, MaxValueValidator)]
    if minimums:
        limits["min_value"] = max(minimums)
    if maximums:
        limits["max_value"] = min(maximums)
    return limits


def clean_text(
    value: str | None,
    field: str,
    *,
    limit: int = MESSAGE_MAX_LENGTH,
    required: bool = False,
    required_message: str = "",
) -> str:
    """What a person typed, trimmed; a ValidationError on `field` when it is missing (if `required`) or
    longer than `limit`."""
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: [required_message or _("This field is required.")]})
    if len(text) > limit:
        raise ValidationError({field: [_("Keep it under %(limit)d characters.") % {"limit": limit}]})
    return text
