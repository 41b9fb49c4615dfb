"""A match's reasons (stored as codes by the engine) as sentences in the reader's language."""

from typing import Any

from django.conf import settings
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace.models import Language
from matching.engine.scoring import short_label

# Below the automatic introduction's threshold (a strong fit), halfway down to MATCHING_MIN_SCORE: a good fit.
GOOD_FIT_SCORE = 0.55


def fit_label(score: float) -> str:
    """A match's score as people judge it: a strong, good or possible fit."""
    strong = settings.MATCHING_AUTO_INTRODUCE_SCORE or 0.8
    if score >= strong:
        return _("Strong fit")
    if score >= GOOD_FIT_SCORE:
        return _("Good fit")
    return _("Possible fit")


def reason_lines(reasons: dict[str, Any], labels: dict[str, str]) -> list[str]:
    def label(code: str) -> str:
        return labels.get(code, code)

    lines = []
    shared = [label(code) for code in reasons.get("shared_subjects", [])]
    shared += [short_label(label(code)) for code in reasons.get("shared_targets", [])]
    if shared:
        lines.append(_("Shared: %(items)s") % {"items": ", ".join(shared)})
    if support := reasons.get("support"):
        lines.append(_("Support that fits: %(items)s") % {"items": ", ".join(label(c) for c in support)})
    if reasons.get("support_mismatch"):
        lines.append(_("Not the kind of support sought"))
    if code := reasons.get("language"):
        language = Language(code).label if code in Language.values else code
        lines.append(_("Both work in %(language)s") % {"language": language})
    if reasons.get("no_common_language"):
        lines.append(_("No common language of work"))
    if covers := reasons.get("covers"):
        if covers == "worldwide":
            lines.append(_("The offer is available worldwide"))
        else:
            lines.append(_("The offer covers %(place)s") % {"place": label(covers)})
    if outside := reasons.get("outside_coverage"):
        lines.append(
            _("The offer is limited to %(places)s") % {"places": ", ".join(label(c) for c in outside)}
        )
    if reasons.get("dates_fit"):
        lines.append(_("The dates fit the timeframe"))
    if reasons.get("dates_outside_timeframe"):
        lines.append(_("The dates fall outside the timeframe"))
    if apply_by := parse_date(reasons.get("apply_by") or ""):
        lines.append(_("Apply by %(date)s") % {"date": date_format(apply_by, "DATE_FORMAT")})
    if (places := reasons.get("places_left")) is not None:
        lines.append(ngettext("%(count)d place left", "%(count)d places left", places) % {"count": places})
    if count := reasons.get("similar_accepted"):
        lines.append(
            ngettext(
                "Resembles a need this offer already served",
                "Resembles needs this offer already served (%(count)d)",
                count,
            )
            % {"count": count}
        )
    return lines
