from django.db import migrations, models


# The guard's beat job finds held emails by clinic each minute: only held rows are indexed, so
# the index stays as small as the emails waiting for a release.
class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0016_reminder_per_appointment_time"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="outboundemail",
            index=models.Index(
                condition=models.Q(("status", "held")), fields=["clinic"], name="email_held"
            ),
        ),
    ]
