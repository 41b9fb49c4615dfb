"""Notifications: rows first (an outbox, written in the transaction of the event), then e-mail and the inbox.

Exactly once: a row is unique per (recipient, event key), so an event recorded twice (a task run twice) adds
nothing; an e-mail is sent while its row is locked and marked sent in the same transaction, so a second
sender finds it locked or already sent.
"""

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import (
    AbstractBaseUser as User,  # the project's user (settings.AUTH_USER_MODEL)
)
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import OperationalError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from . import kinds
from .models import EmailStatus, Frequency, Notification, NotificationPreference

UNSUBSCRIBE_SALT = "marketplace.notifications.unsubscribe"  # kept as first released: sent links keep working
UNSUBSCRIBE_MAX_AGE = datetime.timedelta(days=365)
ALL_KINDS = ""

# `User` is AbstractBaseUser: the project's model (marketplace.User) is a layer above this one. The Django
# plugin types every settings.AUTH_USER_MODEL key as that model, so a lookup or a row given a `User` here
# carries `# type: ignore[misc]  # user key` (any user the project passes is a marketplace.User).


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    quote: str  # a message from the other side, shown as written
    details: list[str]  # extra lines (contact details of a connected match)
    url: str


def render(notification: Notification) -> Rendered:
    """The notification in the active language (the reader's page, or the recipient's e-mail)."""
    context = {key: value for key, value in notification.context.items() if isinstance(value, str)}
    if context.get("expires_on"):  # a date, written the reader's way
        context["expires_on"] = formats.date_format(datetime.date.fromisoformat(context["expires_on"]))
    kind = kinds.get(notification.kind)
    return Rendered(
        subject=str(kind.subject) % _Defaulted(context),
        body=str(kind.body) % _Defaulted(context),
        quote=context.get("message", ""),
        details=kind.details(notification) if kind.details else [],
        url=notification.context.get("path", "/"),
    )


class _Defaulted(dict[str, str]):
    """Missing placeholders read as empty text rather than failing a whole digest."""

    def __missing__(self, key: str) -> str:
        return ""


# --- Writing events ------------------------------------------------------------------------------------


def preference_for(user: User, kind: str) -> str:
    chosen = NotificationPreference.objects.filter(user=user, kind=kind)  # type: ignore[misc]  # user key
    preference = chosen.first()
    return preference.frequency if preference else Frequency.INSTANT


def notify(
    *,
    kind: str,
    event_key: str,
    recipients: Iterable[User],
    context: Mapping[str, object],
    exclude: User | None = None,
) -> list[Notification]:
    """Record an event for each recipient (once per recipient and event key, however often it is called)
    and queue the instant e-mails for after the commit. Call inside the transaction of the event."""
    kinds.get(kind)  # a kind nobody registered is a programming error: fail before writing anything
    people = {user.pk: user for user in recipients if user.is_active and (exclude is None or user != exclude)}
    preferences = {
        (p.user_id, p.kind): p.frequency
        for p in NotificationPreference.objects.filter(user_id__in=people, kind=kind)
    }
    rows = []
    for user in people.values():
        frequency = preferences.get((user.pk, kind), Frequency.INSTANT)
        rows.append(
            Notification(  # type: ignore[misc]  # user key
                recipient=user,
                kind=kind,
                event_key=event_key,
                context=dict(context),
                frequency=frequency,
                email_status=EmailStatus.SKIPPED if frequency == Frequency.OFF else EmailStatus.PENDING,
            )
        )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    # ignore_conflicts leaves no ids: read back the rows this event owns, new or from an earlier run.
    created = list(Notification.objects.filter(event_key=event_key, recipient_id__in=people))
    for row in created:
        if row.frequency == Frequency.INSTANT and row.email_status == EmailStatus.PENDING:
            # shared_task's stub returns a plain Task; the app's task class (config.celery_app.Task, a
            # DjangoTask) has delay_on_commit.
            send_notification_email.delay_on_commit(row.pk)  # type: ignore[attr-defined]
    return created


# --- Sending -------------------------------------------------------------------------------------------


def absolute_url(path: str) -> str:
    site_url: str = settings.SITE_URL
    return urljoin(site_url, path)


class Addressee(Protocol):
    """What an e-mail needs of its recipient: the project's user model (settings.AUTH_USER_MODEL) has it."""

    @property
    def pk(self) -> Any: ...
    @property
    def email(self) -> str: ...
    @property
    def preferred_language(self) -> str: ...


def unsubscribe_token(user: User | Addressee, kind: str = ALL_KINDS) -> str:
    return signing.dumps([user.pk, kind], salt=UNSUBSCRIBE_SALT, compress=True)


def interface_language(code: str) -> str:
    """The interface language (settings.LANGUAGES) of a stored 2-letter language: "zh", Chinese, is simplified
    Chinese, "zh-hans"; a language the interface does not have is English."""
    code = {"zh": "zh-hans"}.get(code, code)
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _email(
    recipient: Addressee, notifications: list[Notification], *, subject: str, kind: str
) -> EmailMessage:
    """One e-mail in the recipient's language, with a one-click unsubscribe link (and RFC 8058 header)."""
    unsubscribe = absolute_url(reverse("unsubscribe", args=[unsubscribe_token(recipient, kind)]))
    with translation.override(interface_language(recipient.preferred_language)):
        parts = []
        for notification in notifications:
            message = render(notification)
            lines = [message.subject if len(notifications) > 1 else "", message.body]
            if message.quote:
                lines.append(_("Their message:") + "\n> " + message.quote.replace("\n", "\n> "))
            lines += message.details
            lines.append(absolute_url(message.url))
            parts.append("\n".join(line for line in lines if line))
        footer = (
            _("You receive this e-mail because you use the CHM Matchmaker.")
            + "\n"
            + _("Choose which e-mails you receive: %(url)s") % {"url": absolute_url(reverse("preferences"))}
            + "\n"
            + _("Unsubscribe: %(url)s") % {"url": unsubscribe}
        )
        # One line: a title typed with line breaks would otherwise make an invalid header (BadHeaderError).
        subject = " ".join((subject or render(notifications[0]).subject).splitlines())
        body = "\n\n".join([*parts, "--", footer])
    return EmailMessage(
        subject=subject,
        body=body,
        to=[recipient.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def notification_email_send(*, notification_id: int) -> bool:
    """E-mail one instant notification; False when it was sent already, is being sent, or is not due."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id, email_status=EmailStatus.PENDING, frequency=Frequency.INSTANT)
            .first()
        )
        if notification is None:
            return False
        _email(notification.recipient, [notification], subject="", kind=notification.kind).send()
        notification.email_status, notification.emailed_at = EmailStatus.SENT, timezone.now()
        notification.save(update_fields=["email_status", "emailed_at"])
    return True


def digests_send(*, frequency: str) -> int:
    """One e-mail per recipient gathering their waiting notifications of this frequency; returns how many
    e-mails left. Safe to run twice: a row is marked sent in the transaction that sends it."""
    if frequency not in (Frequency.DAILY, Frequency.WEEKLY):
        raise ValueError(frequency)
    recipient_ids = (
        Notification.objects.filter(email_status=EmailStatus.PENDING, frequency=frequency)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    sent = 0
    connection = get_connection()
    for recipient_id in list(recipient_ids):
        with transaction.atomic():
            rows = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("recipient")
                .filter(recipient_id=recipient_id, email_status=EmailStatus.PENDING, frequency=frequency)
                .order_by("created_at", "pk")
            )
            if not rows:
                continue
            recipient = rows[0].recipient
            with translation.override(interface_language(recipient.preferred_language)):
                title = _("Your daily digest") if frequency == Frequency.DAILY else _("Your weekly digest")
                count = translation.ngettext("%(count)d update", "%(count)d updates", len(rows))
                subject = f"{title}: {count % {'count': len(rows)}}"
            message = _email(recipient, rows, subject=subject, kind=ALL_KINDS)
            message.connection = connection
            message.send()
            Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
                email_status=EmailStatus.SENT, emailed_at=timezone.now()
            )
            sent += 1
    return sent


def pending_instant_ids(*, older_than_seconds: int) -> list[int]:
    """Instant e-mails still waiting after a while: their task was lost (broker down, worker killed)."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        Notification.objects.filter(
            email_status=EmailStatus.PENDING, frequency=Frequency.INSTANT, created_at__lt=cutoff
        ).values_list("pk", flat=True)
    )


# --- The recipient's choices ---------------------------------------------------------------------------


@transaction.atomic
def preferences_save(*, user: User, frequencies: Mapping[str, str]) -> None:
    """Set how often each kind is e-mailed; notifications still waiting follow the new choice."""
    errors = {
        kind: [_("Unknown choice.")]
        for kind, frequency in frequencies.items()
        if kind not in kinds.codes() or frequency not in Frequency.values
    }
    if errors:
        raise ValidationError(errors)
    for kind, frequency in frequencies.items():
        NotificationPreference.objects.update_or_create(  # type: ignore[misc]  # user key
            user=user, kind=kind, defaults={"frequency": frequency}
        )
        waiting = Notification.objects.filter(  # type: ignore[misc]  # user key
            recipient=user, kind=kind, email_status=EmailStatus.PENDING
        )
        if frequency == Frequency.OFF:
            waiting.update(frequency=frequency, email_status=EmailStatus.SKIPPED)
        else:
            waiting.update(frequency=frequency)


def unsubscribe_target(token: str) -> tuple[User, str]:
    """The user and kind ("" for every kind) a signed unsubscribe token names; ValidationError if forged or
    older than UNSUBSCRIBE_MAX_AGE (a link from an old e-mail, forwarded or leaked, stops working)."""
    try:
        user_id, kind = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
        user = get_user_model().objects.get(pk=user_id)
    except signing.SignatureExpired as error:
        raise ValidationError(
            _("This unsubscribe link has expired: sign in and change your choices in your preferences.")
        ) from error
    except (signing.BadSignature, get_user_model().DoesNotExist, TypeError, ValueError) as error:
        raise ValidationError(_("This unsubscribe link is not valid.")) from error
    if kind != ALL_KINDS and kind not in kinds.codes():
        raise ValidationError(_("This unsubscribe link is not valid."))
    return user, kind


def masked_address(email: str) -> str:
    """Enough of an address for its owner to recognise it, too little for anyone else: m•••@example.org."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


def unsubscribe(*, token: str) -> tuple[User, str]:
    """Stop the e-mails a signed link names (one kind, or all); the inbox keeps showing them."""
    user, kind = unsubscribe_target(token)
    preferences_save(user=user, frequencies={k: Frequency.OFF for k in ([kind] if kind else kinds.codes())})
    return user, kind


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    unread = Notification.objects.filter(  # type: ignore[misc]  # user key
        recipient=user, read_at__isnull=True
    )
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


# The task lives beside the service it runs, so that `notify` can queue it without importing the beat tasks.
@shared_task(acks_late=True, autoretry_for=(OSError, OperationalError), retry_backoff=30, max_retries=8)
def send_notification_email(notification_id: int) -> bool:
    """E-mail one notification; a duplicate or late run finds it sent and does nothing. An SMTP failure
    (OSError) or a lost database connection (OperationalError) rolls the row back to pending and retries."""
    return notification_email_send(notification_id=notification_id)
