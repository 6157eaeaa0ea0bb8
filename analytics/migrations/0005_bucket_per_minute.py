"""Buckets: one row per service-minute with its slices packed, instead of one row per slice.

The old rows are regrouped into the new table (nothing is recomputed from the
reports), then `analytics_bucket_slice` unpacks them again for the readers.
"""

import django.db.models.deletion
from django.db import migrations, models

import analytics.models

PG_TYPE = "CREATE TYPE analytics_slice AS (region text, country text, code text, feature_id bigint, count integer)"

PG_VIEW = """
CREATE VIEW analytics_bucket_slice AS
SELECT b.service_id, b.minute, s.region, s.country, s.code, s.feature_id, s.count
FROM analytics_bucket_minute b CROSS JOIN LATERAL unnest(b.slices) AS s
"""

SQLITE_VIEW = """
CREATE VIEW analytics_bucket_slice AS
SELECT b.service_id AS service_id, b.minute AS minute,
       json_extract(s.value, '$[0]') AS region, json_extract(s.value, '$[1]') AS country,
       json_extract(s.value, '$[2]') AS code, json_extract(s.value, '$[3]') AS feature_id,
       json_extract(s.value, '$[4]') AS count
FROM analytics_bucket_minute b, json_each(b.slices) AS s
"""

PG_COPY = """
INSERT INTO analytics_bucket_minute (service_id, minute, total, slices)
SELECT service_id, minute, sum(count),
       array_agg(ROW(region, country, code, feature_id, count)::analytics_slice)
FROM analytics_legacybucket GROUP BY service_id, minute
"""

SQLITE_COPY = """
INSERT INTO analytics_bucket_minute (service_id, minute, total, slices)
SELECT service_id, minute, sum(count), json_group_array(json_array(region, country, code, feature_id, count))
FROM analytics_legacybucket GROUP BY service_id, minute
"""


def _run(pg: str, sqlite: str):
    def run(apps, schema_editor):
        schema_editor.execute(pg if schema_editor.connection.vendor == "postgresql" else sqlite)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0004_bucket_no_db_foreign_keys"),
        ("reports", "0002_apitoken"),
    ]

    operations = [
        migrations.RunPython(_run(PG_TYPE, "SELECT 1"), _run("DROP TYPE analytics_slice", "SELECT 1")),
        migrations.RenameModel("Bucket", "LegacyBucket"),
        migrations.CreateModel(
            name="Bucket",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("minute", models.DateTimeField()),
                ("total", models.PositiveIntegerField()),
                ("slices", analytics.models.SlicesField()),
                (
                    "service",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="reports.service",
                    ),
                ),
            ],
            options={
                # A new table name: the renamed legacy table still holds the old index names.
                "db_table": "analytics_bucket_minute",
                "constraints": [models.UniqueConstraint(fields=("service", "minute"), name="bucket_unique_minute")],
            },
        ),
        migrations.RunPython(_run(PG_COPY, SQLITE_COPY), migrations.RunPython.noop),
        migrations.DeleteModel("LegacyBucket"),
        migrations.RunPython(
            _run(PG_VIEW, SQLITE_VIEW), _run("DROP VIEW analytics_bucket_slice", "DROP VIEW analytics_bucket_slice")
        ),
        migrations.CreateModel(
            name="BucketSlice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("minute", models.DateTimeField()),
                ("region", models.CharField(max_length=8)),
                ("country", models.CharField(max_length=2)),
                ("code", models.CharField(max_length=32)),
                ("count", models.PositiveIntegerField()),
                (
                    "feature",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="reports.feature",
                    ),
                ),
                (
                    "service",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="reports.service",
                    ),
                ),
            ],
            options={"db_table": "analytics_bucket_slice", "managed": False},
        ),
    ]
