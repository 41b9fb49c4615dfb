"""What the marketplace tells posters (registered with the outbox when the app is ready)."""

from django.utils.translation import gettext_lazy as _

from notifications.kinds import register

CHANGES_REQUESTED = register(
    "changes_requested",
    _("The secretariat asks for changes to your posting"),
    subject=_("Changes requested to “%(title)s”"),
    body=_("The secretariat asks for changes to your posting “%(title)s” before publishing it."),
)


POSTING_PUBLISHED = register(
    "posting_published",
    _("Your posting is published"),
    subject=_("“%(title)s” is published"),
    body=_("The secretariat published your posting “%(title)s”. The matcher is looking for partners."),
)


POSTING_EXPIRING = register(
    "posting_expiring",
    _("Your posting is about to expire"),
    subject=_("“%(title)s” expires on %(expires_on)s"),
    body=_(
        "Your posting “%(title)s” expires on %(expires_on)s. Edit it to give a later date if it is "
        "still current, or close it."
    ),
)
