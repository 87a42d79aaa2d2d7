from django.db import migrations, models


class Migration(migrations.Migration):
    """Where replies to a clinic's emails go; empty means its first clinic admin's address, so
    every clinic has a Reply-To from the start without one being copied here."""

    dependencies = [
        ("clinic", "0005_audit_outlives_clinic"),
    ]

    operations = [
        migrations.AddField(
            model_name="clinic",
            name="reply_to_email",
            field=models.EmailField(
                blank=True,
                db_default="",
                help_text="Empty: the first clinic admin's address.",
                max_length=254,
                verbose_name="replies go to",
            ),
        ),
    ]
