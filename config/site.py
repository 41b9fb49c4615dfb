"""A partner's own site: an instance run for one Party or programme, with its name, languages and colour
(what the Belgian partnership offers to host for partners). Read from the environment by the settings:

    SITE_NAME="Centre d'échange de Belgique"  SITE_PARTY=BE  SITE_LANGUAGES=fr,en  SITE_ACCENT_COLOUR=#1d4f91

Checked at start-up (``manage.py check``, run by every command): an unknown language, or a colour that white
text cannot be read on (the header writes white on it), stops the server with a message saying why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.http import Http404, HttpRequest, HttpResponse

MIN_CONTRAST = 4.5  # WCAG 2 AA for normal text: white on the accent colour, the accent on the page
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def site_languages(languages: Sequence[tuple[str, Any]], chosen: Sequence[str]) -> list[tuple[str, Any]]:
    """The site's languages in the order chosen (the first is the default); all of them when none is."""
    names = dict(languages)
    return [(code, names[code]) for code in chosen if code in names] if chosen else list(languages)


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(colour: str) -> float:
    return 1.05 / (_luminance(colour) + 0.05)


@register()
def check_site(**_kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    known = {code for code, _name in settings.ALL_LANGUAGES}
    if unknown := [code for code in settings.SITE_LANGUAGE_CODES if code not in known]:
        errors.append(
            Error(
                f"SITE_LANGUAGES names {', '.join(unknown)}; the languages are {', '.join(sorted(known))}.",
                id="site.E001",
            )
        )
    colour = settings.SITE_ACCENT_COLOUR
    if colour and not _COLOUR.match(colour):
        errors.append(Error(f"SITE_ACCENT_COLOUR {colour!r} is not a colour like #1d4f91.", id="site.E002"))
    elif colour and (ratio := contrast_with_white(colour)) < MIN_CONTRAST:
        errors.append(
            Error(
                f"SITE_ACCENT_COLOUR {colour}: white text on it has a contrast of {ratio:.1f}:1, under "
                f"{MIN_CONTRAST}:1; choose a darker colour.",
                id="site.E003",
            )
        )
    return errors


def site_colours(request: HttpRequest) -> HttpResponse:
    """``/site-colours.css``, linked after site.css when SITE_ACCENT_COLOUR is set: the site's colour as the
    stylesheet's variable (a file, as the content security policy allows no inline style)."""
    colour = settings.SITE_ACCENT_COLOUR
    if not _COLOUR.match(colour):  # unset, or refused by the start-up check: nothing goes into the CSS
        raise Http404
    return HttpResponse(
        f":root {{ --accent: {colour}; }}\n",
        content_type="text/css",
        headers={"Cache-Control": "public, max-age=86400"},
    )
