"""What the mentoring programme tells people (registered with the outbox when the app is ready)."""

from django.utils.translation import gettext_lazy as _

from notifications.kinds import register

MENTORING_PAIRED = register(
    "mentoring_paired",
    _("A mentoring pairing is confirmed"),
    subject=_("Mentoring pairing confirmed: %(mentor)s and %(mentee)s"),
    body=_(
        "The secretariat confirmed the mentoring pairing of %(mentor)s (mentor) with %(mentee)s "
        "(mentee). Agree on goals and milestones on the pairing's page."
    ),
)
