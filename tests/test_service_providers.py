"""Services name what they run on (`providers`): imported from a CSV, shown in the admin."""

import pytest
from django.core.management import CommandError, call_command

from reports.models import Service
from reports.services import parse_providers


def test_providers_are_normalised():
    assert parse_providers("AWS:us-east-1; cloudflare;;aws:us-east-1") == ["aws:us-east-1", "cloudflare"]
    with pytest.raises(ValueError):
        parse_providers("aws us-east-1")


def test_services_and_their_providers_are_importable(db, tmp_path, tesla):
    path = tmp_path / "services.csv"
    path.write_text("slug,name,providers\ntesla,Tesla,aws:us-west-2\nslack,Slack,aws:us-east-1;cloudflare\n")
    call_command("import_services", path)
    assert Service.objects.get(slug="tesla").providers == ["aws:us-west-2"]
    assert Service.objects.get(slug="slack").providers == ["aws:us-east-1", "cloudflare"]


def test_a_bad_row_imports_nothing(db, tmp_path):
    path = tmp_path / "services.csv"
    path.write_text("slug,name,providers\nok,Ok,gcp\nNot A Slug,Bad,gcp\n")
    with pytest.raises(CommandError, match="line 3"):
        call_command("import_services", path)
    assert not Service.objects.exists()


def test_the_admin_edits_providers(admin_client, tesla):
    page = admin_client.get(f"/admin/reports/service/{tesla.pk}/change/")
    assert b'name="providers"' in page.content
