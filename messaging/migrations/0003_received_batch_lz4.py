from django.db import migrations


def compress_with_lz4(apps, schema_editor) -> None:
    # A 1,000-event batch is about 1 MB of JSON; PostgreSQL's default compression (pglz) costs
    # several milliseconds of the ESP's wait to store it, lz4 a fraction of that.
    # A server built without lz4 (the embedded one `make demo` and `make test` may start) keeps
    # PostgreSQL's default.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        if cursor.fetchone()[0]:
            cursor.execute(
                "ALTER TABLE messaging_receivedbatch ALTER COLUMN payload SET COMPRESSION lz4"
            )


class Migration(migrations.Migration):
    dependencies = [("messaging", "0002_received_batch")]

    operations = [migrations.RunPython(compress_with_lz4, migrations.RunPython.noop)]
