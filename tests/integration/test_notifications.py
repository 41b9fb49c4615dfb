"""Notifications: rows first, then e-mail exactly once (even when a task runs twice), digests, preferences,
the signed unsubscribe link, the recipient's language, and the events of a posting's life."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from marketplace import notification_kinds as posting_kinds
from marketplace import services
from matching import notification_kinds as match_kinds
from notifications import kinds, outbox
from notifications import tasks as notification_tasks
from notifications.models import EmailStatus, Frequency, Notification, NotificationPreference
from tests.factories import NeedFactory, UserFactory, focal_point, in_days

pytestmark = pytest.mark.django_db
CONTEXT = {
    "title": "Train customs officers",
    "other_title": "Border biosecurity course",
    "other_poster": "ICBBT",
}


def event(user, key="match:1:introduced", kind=match_kinds.MATCH_INTRODUCED, **context):
    return outbox.notify(kind=kind, event_key=key, recipients=[user], context=CONTEXT | context)


def test_an_event_recorded_twice_and_a_task_run_twice_send_one_email(django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = event(user)
    with django_capture_on_commit_callbacks(execute=True):
        second = event(user)  # the same event again (a matching task run twice)
    assert [n.pk for n in first] == [n.pk for n in second]
    assert Notification.objects.count() == 1
    notification = first[0]
    assert outbox.send_notification_email(notification.pk) is False  # the broker delivered it again
    assert outbox.send_notification_email(notification.pk) is False
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.SENT and notification.emailed_at is not None


def test_a_lost_task_is_requeued_and_sends_once(django_capture_on_commit_callbacks):
    user = UserFactory()
    (notification,) = event(user)  # callbacks not run: as if the broker lost the task
    assert mail.outbox == []
    Notification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert notification_tasks.requeue_pending_notifications() == 1
    assert notification_tasks.requeue_pending_notifications() == 0
    assert len(mail.outbox) == 1


def test_daily_digest_gathers_waiting_notifications_in_one_email(django_capture_on_commit_callbacks):
    user, other = UserFactory(), UserFactory()
    outbox.preferences_save(user=user, frequencies={match_kinds.MATCH_INTRODUCED: Frequency.DAILY})
    outbox.preferences_save(user=user, frequencies={match_kinds.MATCH_ACCEPTED: Frequency.WEEKLY})
    with django_capture_on_commit_callbacks(execute=True):
        event(user, "match:1:introduced", title="Mangrove restoration in Haiti")
        event(user, "match:2:introduced", title="Herbarium digitisation")
        event(user, "match:3:accepted:need", kind=match_kinds.MATCH_ACCEPTED, title="Weekly one")
        event(other, "match:1:introduced")  # instant, for someone else
    assert [m.to for m in mail.outbox] == [[other.email]]

    assert outbox.digests_send(frequency=Frequency.DAILY) == 1
    assert outbox.digests_send(frequency=Frequency.DAILY) == 0  # run twice: nothing more
    digest = mail.outbox[1]
    assert digest.to == [user.email] and "2 updates" in digest.subject
    assert "Mangrove restoration in Haiti" in digest.body and "Herbarium digitisation" in digest.body
    assert "Weekly one" not in digest.body
    assert outbox.digests_send(frequency=Frequency.WEEKLY) == 1
    assert "Weekly one" in mail.outbox[2].body
    assert not Notification.objects.filter(email_status=EmailStatus.PENDING).exists()


def test_every_email_has_a_signed_one_click_unsubscribe(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        event(user)
    message = mail.outbox[0]
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in message.body
    path = link.removeprefix("http://127.0.0.1:8000")

    page = client.get(path)
    assert (
        page.status_code == 200 and f"{user.email[0]}•••@{user.email.split('@')[1]}" in page.content.decode()
    )
    assert not NotificationPreference.objects.exists()  # looking changes nothing
    csrf_client = client.__class__(enforce_csrf_checks=True)  # a mail client's one-click POST has no session
    assert csrf_client.post(path).status_code == 200
    assert (
        NotificationPreference.objects.get(user=user, kind=match_kinds.MATCH_INTRODUCED).frequency
        == Frequency.OFF
    )

    with django_capture_on_commit_callbacks(execute=True):
        (later,) = event(user, "match:9:introduced")
    assert len(mail.outbox) == 1  # no more e-mail of that kind…
    assert later.email_status == EmailStatus.SKIPPED
    client.force_login(user)
    assert b"Border biosecurity course" in client.get(reverse("inbox")).content  # …but still in the inbox

    forged = path.replace(path.split("/")[-2], path.split("/")[-2][:-3] + "abc")
    assert client.get(forged).status_code == 400
    assert client.post(forged).status_code == 400


def test_email_and_inbox_speak_the_recipients_language(client, django_capture_on_commit_callbacks):
    french, spanish = UserFactory(preferred_language="fr"), UserFactory(preferred_language="es")
    with django_capture_on_commit_callbacks(execute=True):
        event(french)
        event(spanish)
    subject = kinds.get(match_kinds.MATCH_INTRODUCED).subject
    for user, language in ((french, "fr"), (spanish, "es")):
        with translation.override(language):
            expected = str(subject) % CONTEXT
        assert expected != str(subject) % CONTEXT  # a real translation exists
        assert next(m for m in mail.outbox if m.to == [user.email]).subject == expected
    client.force_login(french)
    page = client.get(reverse("inbox"), headers={"accept-language": "fr"}).content.decode()
    with translation.override("fr"):
        assert str(subject) % CONTEXT in page


def test_preferences_page_and_waiting_rows_follow_the_choice(client):
    user = UserFactory()
    outbox.preferences_save(user=user, frequencies={posting_kinds.POSTING_EXPIRING: Frequency.WEEKLY})
    (waiting,) = event(user, "need:1:expiring:2027-01-01", kind=posting_kinds.POSTING_EXPIRING)
    client.force_login(user)
    form = {kind: Frequency.INSTANT for kind in kinds.codes()} | {
        posting_kinds.POSTING_EXPIRING: Frequency.OFF,
        "preferred_language": "ar",
    }
    assert client.post(reverse("preferences"), form).status_code == 302
    user.refresh_from_db()
    assert user.preferred_language == "ar"  # the language of the e-mails, chosen on the same page
    waiting.refresh_from_db()
    assert (waiting.frequency, waiting.email_status) == (Frequency.OFF, EmailStatus.SKIPPED)
    bad = client.post(
        reverse("preferences"),
        form | {posting_kinds.POSTING_EXPIRING: "hourly", "preferred_language": "pt"},
    )
    assert bad.status_code == 200 and b"errorlist" in bad.content
    user.refresh_from_db()
    assert user.preferred_language == "ar"
    assert (
        NotificationPreference.objects.get(user=user, kind=posting_kinds.POSTING_EXPIRING).frequency
        == Frequency.OFF
    )


def test_inbox_shows_only_the_readers_notifications_and_marks_them_read(client):
    user, other = UserFactory(), UserFactory()
    event(user, title="Mine")
    event(other, title="Someone else's")
    client.force_login(user)
    page = client.get(reverse("inbox")).content
    assert b"Mine" in page and b"Someone else" not in page
    client.post(reverse("inbox_mark_read"))
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=other, read_at__isnull=True).exists()


def test_a_postings_life_tells_its_owners(secretariat, django_capture_on_commit_callbacks):
    owner = focal_point("TD")
    need = NeedFactory(created_by=owner, status="submitted", expires_on=in_days(5))
    with django_capture_on_commit_callbacks(execute=True):
        services.posting_request_changes(user=secretariat, posting=need, message="Add the dates, please.")
    need.refresh_from_db()
    services.posting_submit(user=owner, posting=need)
    with django_capture_on_commit_callbacks(execute=True):
        services.posting_approve(user=secretariat, posting=need)
    for _ in range(2):  # the daily task, run twice: one warning per expiry date
        with django_capture_on_commit_callbacks(execute=True):
            services.postings_notify_expiring()
    told = list(Notification.objects.filter(recipient=owner).order_by("pk").values_list("kind", flat=True))
    assert told == [
        posting_kinds.CHANGES_REQUESTED,
        posting_kinds.POSTING_PUBLISHED,
        posting_kinds.POSTING_EXPIRING,
    ]
    assert [m.to for m in mail.outbox] == [[owner.email]] * 3
    assert "Add the dates, please." in mail.outbox[0].body
