# status_rank is derived by the database from status, by the CASE of messaging/status.py's
# STATUS_RANK. Django cannot turn a column into a generated one: it is dropped and added again
# (PostgreSQL computes it for every existing row as it adds it, rewriting the table).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0005_event_batch_removed"),
    ]

    operations = [
        migrations.RemoveField(model_name="outboundemail", name="status_rank"),
        migrations.AddField(
            model_name="outboundemail",
            name="status_rank",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(status="sending", then=models.Value(0)),
                    models.When(status="processed", then=models.Value(10)),
                    models.When(status="sent", then=models.Value(10)),
                    models.When(status="deferred", then=models.Value(20)),
                    models.When(status="delivered", then=models.Value(30)),
                    models.When(status="opened", then=models.Value(40)),
                    models.When(status="clicked", then=models.Value(50)),
                    models.When(status="failed", then=models.Value(60)),
                    models.When(status="spam_report", then=models.Value(70)),
                    output_field=models.PositiveSmallIntegerField(),
                ),
                output_field=models.PositiveSmallIntegerField(),
            ),
        ),
    ]
