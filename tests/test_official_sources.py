"""A service's official status source: set in the services import or in the admin."""

import pytest
from django.core.management import CommandError, call_command

from official.models import Source
from reports.models import Service


def test_the_services_import_sets_official_sources(db, tmp_path):
    path = tmp_path / "services.csv"
    path.write_text(
        "slug,name,official_kind,official_url\n"
        "tesla,Tesla,statuspage,https://status.tesla.example\n"
        "slack,Slack,rss,https://status.slack.example/feed.rss\n"
        "plain,Plain,,\n"
    )
    call_command("import_services", path)
    assert Source.objects.get(service__slug="tesla").kind == "statuspage"
    assert Source.objects.get(service__slug="slack").url == "https://status.slack.example/feed.rss"
    assert not Source.objects.filter(service__slug="plain").exists()


@pytest.mark.parametrize(
    ("kind", "url", "message"),
    [("twitter", "https://x.example", "official_kind"), ("statuspage", "ftp://x.example", "official_url")],
)
def test_a_bad_official_source_imports_nothing(db, tmp_path, kind, url, message):
    path = tmp_path / "services.csv"
    path.write_text(f"slug,name,official_kind,official_url\nok,Ok,none,\nbad,Bad,{kind},{url}\n")
    with pytest.raises(CommandError, match=f"line 3: {message}"):
        call_command("import_services", path)
    assert not Service.objects.exists() and not Source.objects.exists()


def test_the_admin_edits_a_source(admin_client, tesla):
    page = admin_client.post(
        "/admin/official/source/add/", {"service": tesla.pk, "kind": "atom", "url": "https://status.example/atom"}
    )
    assert page.status_code == 302
    assert Source.objects.get(service=tesla).kind == "atom"
