"""The kinds of event people are told about. Each app registers its own (in its `AppConfig.ready()`): the
label people choose e-mail preferences by, the subject and body filled from the event's context, and any
extra lines read at sending time (a connected match's contact details). The outbox knows no event itself."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise

from .models import Notification

# Extra lines read at sending time from the notification (a connected match's contact details).
Details = Callable[[Notification], list[str]]


@dataclass(frozen=True)
class Kind:
    code: str
    label: Promise
    subject: Promise
    body: Promise
    details: Details | None = None


_KINDS: dict[str, Kind] = {}

# (code, label) of every kind in the order registered: the preferences' order, and the API's enum
# (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] reads this list once the apps are ready).
CHOICES: list[tuple[str, Promise]] = []


def register(
    code: str, label: Promise, *, subject: Promise, body: Promise, details: Details | None = None
) -> str:
    if code in _KINDS:
        raise ValueError(f"notification kind {code!r} is registered twice")
    _KINDS[code] = Kind(code, label, subject, body, details)
    CHOICES.append((code, label))
    return code


def get(code: str) -> Kind:
    return _KINDS[code]


def codes() -> list[str]:
    return [code for code, _label in CHOICES]
