"""What the network tells a partner's registered contact (registered with the outbox when ready)."""

from django.utils.translation import gettext_lazy as _

from notifications.kinds import register

MATCH_FORWARDED = register(
    "network_match_forwarded",
    _("A partner clearing-house suggests a match for one of your postings"),
    subject=_("A match suggested for “%(title)s”"),
    body=_(
        "The secretariat of %(site)s suggests that its posting “%(local_title)s” could match your "
        "posting “%(title)s” (%(original_url)s). Read it at the address below and express interest "
        "there: contact details are shared only once both sides accept, on the site that holds them."
    ),
)
