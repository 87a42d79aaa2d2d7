"""API tokens were kept in plain text (rest_framework.authtoken); they are now stored hashed, with
an expiry (django-rest-knox). The old tokens are deleted, not converted: every clinic's staff
must issue new tokens at /settings/api-tokens/ and give them to their integrations."""

from django.db import migrations

DROP_PLAIN_API_TOKENS = """
DROP TABLE IF EXISTS authtoken_token;
DELETE FROM django_migrations WHERE app = 'authtoken';
"""


def forget_plain_token_permissions(apps, schema_editor):
    """The old app's content type and permissions (and any grants of them) go with its table."""
    content_type = apps.get_model("contenttypes", "ContentType")
    permission = apps.get_model("auth", "Permission")
    permission.objects.filter(content_type__app_label="authtoken").delete()
    content_type.objects.filter(app_label="authtoken").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0003_smtp_security_tracking_audit"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunSQL(DROP_PLAIN_API_TOKENS, reverse_sql=migrations.RunSQL.noop),
        migrations.RunPython(forget_plain_token_permissions, migrations.RunPython.noop),
    ]
