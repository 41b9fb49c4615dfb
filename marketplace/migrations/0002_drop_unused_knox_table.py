"""django-rest-knox's own migrations create `knox_authtoken` even though `marketplace.ApiToken` replaces its
model (KNOX_TOKEN_MODEL). The table stays empty; its foreign key to the users blocks the truncation that
transactional tests (and `manage.py flush`) perform, so it goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0001_initial"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS knox_authtoken", reverse_sql=migrations.RunSQL.noop),
    ]
