from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("reports", "0004_service_providers")]

    operations = [
        migrations.AddField(
            model_name="report",
            name="log_entry",
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True),
        ),
    ]
