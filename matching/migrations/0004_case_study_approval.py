"""Case studies go public only once the secretariat approves them (OWASP review, finding 7).

Stories made public before this migration were never approved: they go back to the secretariat's queue
(both consents kept). The reverse publishes again every story with both consents and no approval, at the
moment of its second consent, which is when the former code published it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import Greatest


def withdraw_unapproved(apps, schema_editor):
    CaseStudy = apps.get_model("matching", "CaseStudy")
    CaseStudy.objects.filter(published_at__isnull=False, approved_by__isnull=True).update(published_at=None)


def publish_consented(apps, schema_editor):
    CaseStudy = apps.get_model("matching", "CaseStudy")
    CaseStudy.objects.filter(
        published_at__isnull=True, need_consent_at__isnull=False, offer_consent_at__isnull=False
    ).update(published_at=Greatest("need_consent_at", "offer_consent_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0003_embedding_matched_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="casestudy",
            name="approved_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="casestudy",
            name="review_note",
            field=models.TextField(blank=True, verbose_name="why the secretariat sent it back"),
        ),
        migrations.RunPython(withdraw_unapproved, publish_consented),
    ]
