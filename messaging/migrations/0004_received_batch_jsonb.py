from django.db import migrations, models

# A payload written by an earlier version that PostgreSQL cannot read as JSON is kept, as a JSON
# string, and set aside for support with why; the column's type could not change otherwise. The
# table is locked first, so that no such payload is written meanwhile by a web process still
# running the earlier version.
KEEP_UNREADABLE = """
LOCK TABLE messaging_receivedbatch IN EXCLUSIVE MODE;
DO $$
DECLARE batch record;
BEGIN
    FOR batch IN SELECT id, payload FROM messaging_receivedbatch LOOP
        BEGIN
            PERFORM batch.payload::jsonb;
        EXCEPTION WHEN others THEN
            UPDATE messaging_receivedbatch
            SET payload = to_jsonb(batch.payload)::text,
                failed_at = COALESCE(failed_at, now()),
                error = 'Not JSON, kept as text: ' || SQLERRM
            WHERE id = batch.id;
        END;
    END LOOP;
END $$;
"""


def keep_unreadable(apps, schema_editor) -> None:
    schema_editor.execute(KEEP_UNREADABLE)


def compress_with_lz4(apps, schema_editor) -> None:
    # Changing the column's type set its compression back to the default (0003 explains lz4).
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
    dependencies = [("messaging", "0003_received_batch_lz4")]

    operations = [
        # Back to text, the column needs lz4 set again too (this runs last when reversed).
        migrations.RunPython(migrations.RunPython.noop, compress_with_lz4),
        migrations.RunPython(keep_unreadable, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="receivedbatch",
            name="payload",
            field=models.JSONField(),
        ),
        migrations.RunPython(compress_with_lz4, migrations.RunPython.noop),
    ]
