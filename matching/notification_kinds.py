"""What matching tells people (registered with the outbox when the app is ready): introductions, answers,
connections with the other side's contact details, outcomes and case studies."""

from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from notifications.kinds import register
from notifications.models import Notification

from . import selectors


def connected_contact_details(notification: Notification) -> list[str]:
    """The other side's contact, read when the e-mail is written (it may have changed since the event)."""
    contact = selectors.connected_contact(
        match_id=notification.context.get("match"), side=notification.context.get("side")
    )
    if contact is None:
        return []
    return [
        gettext_now("Contact: %(name)s, %(email)s %(phone)s")
        % {"name": contact.contact_name, "email": contact.contact_email, "phone": contact.contact_phone}
    ]


MATCH_INTRODUCED = register(
    "match_introduced",
    _("A match is introduced to you"),
    subject=_("A possible partner for “%(title)s”"),
    body=_(
        "The CHM Matchmaker suggests “%(other_title)s” (%(other_poster)s) for your posting "
        "“%(title)s”. Accept or decline the introduction: contact details are shared once both "
        "sides accept."
    ),
)


INTEREST_RECEIVED = register(
    "interest_received",
    _("Someone is interested in your posting"),
    subject=_("%(other_poster)s is interested in “%(title)s”"),
    body=_(
        "%(other_poster)s expressed interest in your posting “%(title)s” with “%(other_title)s”. "
        "Accept to share contact details, or decline."
    ),
)


MATCH_ACCEPTED = register(
    "match_accepted",
    _("The other side accepts a match"),
    subject=_("“%(other_title)s” accepted the match"),
    body=_(
        "%(other_poster)s accepted the match between “%(other_title)s” and your posting “%(title)s”. "
        "Accept too, and you will both receive each other's contact details."
    ),
)


MATCH_DECLINED = register(
    "match_declined",
    _("The other side declines a match"),
    subject=_("“%(other_title)s” declined the match"),
    body=_(
        "%(other_poster)s declined the match between “%(other_title)s” and your posting “%(title)s”. "
        "Other suggestions remain on your posting's page."
    ),
)


MATCH_CONNECTED = register(
    "match_connected",
    _("You are connected (with contact details)"),
    subject=_("You are connected with %(other_poster)s"),
    body=_(
        "Both sides accepted the match between “%(title)s” and “%(other_title)s”. "
        "You can now contact each other directly."
    ),
    details=connected_contact_details,
)


MATCH_CLOSED = register(
    "match_closed",
    _("A match is closed"),
    subject=_("The match with “%(other_title)s” is closed"),
    body=_("The match between “%(title)s” and “%(other_title)s” was closed."),
)


OUTCOME_REPORTED = register(
    "outcome_reported",
    _("The other side reports an outcome"),
    subject=_("%(other_poster)s reported the outcome of your cooperation"),
    body=_(
        "%(other_poster)s reported how the cooperation between “%(title)s” and “%(other_title)s” went. "
        "Please add your own report and feedback."
    ),
)


STORY_PROPOSED = register(
    "story_proposed",
    _("A case study awaits your consent"),
    subject=_("A case study about “%(title)s” awaits your consent"),
    body=_(
        "A case study, “%(story_title)s”, tells the story of the cooperation between “%(title)s” and "
        "“%(other_title)s”. It is published only when both sides consent to its text."
    ),
)


STORY_PUBLISHED = register(
    "story_published",
    _("A case study is published"),
    subject=_("Case study published: “%(story_title)s”"),
    body=_("Both sides consented: the case study “%(story_title)s” is now public. Thank you."),
)
