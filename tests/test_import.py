import pytest
from django.core.management import CommandError, call_command

from analytics.models import BucketSlice
from reports.models import Report, Service

HEADER = "observed_at,service,country,code,feature\n"


def write(tmp_path, text):
    path = tmp_path / "reports.csv"
    path.write_text(text)
    return path


def test_it_imports_and_buckets(tmp_path, tesla, capsys):
    path = write(
        tmp_path,
        HEADER + "2023-02-14T09:01:10Z,tesla,FR,503,climate\n"
        "2023-02-14T09:01:50Z,tesla,DE,503,climate\n2023-02-14T09:02:00Z,tesla,US,none,location\n",
    )
    call_command("import_reports", str(path))
    assert Report.objects.filter(source="import").count() == 3
    assert sorted(BucketSlice.objects.values_list("country", "count")) == [("DE", 1), ("FR", 1), ("US", 1)]
    assert "Imported 3 reports" in capsys.readouterr().out


def test_a_bad_row_is_named_by_line_and_nothing_is_imported(tmp_path, tesla):
    path = write(
        tmp_path,
        HEADER + "2023-02-14T09:01:10Z,tesla,FR,503,climate\n"
        "2023-02-14T09:01:50Z,tesla,XX,503,climate\nnot-a-date,tesla,FR,503,climate\n",
    )
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_reports", str(path))
    assert not Report.objects.exists()


def test_errors_give_line_numbers_and_reasons(tmp_path, tesla, capsys):
    path = write(
        tmp_path, HEADER + "2023-02-14T09:01:10Z,tesla,FR,503,climate\n2023-02-14T09:01:50Z,tesla,XX,503,climate\n"
    )
    with pytest.raises(CommandError):
        call_command("import_reports", str(path))
    err = capsys.readouterr().err
    assert "line 3" in err and "country" in err


def test_unknown_services_need_the_flag(tmp_path, db):
    path = write(tmp_path, HEADER + "2021-11-19T21:00:00Z,tesla,US,500,remote-unlock\n")
    with pytest.raises(CommandError):
        call_command("import_reports", str(path))
    call_command("import_reports", str(path), "--create-services")
    service = Service.objects.get(slug="tesla")
    assert {"remote-unlock", "other"} <= set(service.features.values_list("slug", flat=True))
    assert Report.objects.get().region == "NA"


def test_a_missing_column_is_reported(tmp_path, tesla):
    path = write(tmp_path, "observed_at,service,country\n2023-02-14T09:01:10Z,tesla,FR\n")
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_reports", str(path))


def test_a_missing_file_is_reported(tmp_path, db):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_reports", str(tmp_path / "nope.csv"))


@pytest.mark.parametrize("slug", ["Tesla Inc", "tesla/eu", "tésla", "a" * 65, "tesla.com"])
def test_create_services_refuses_a_slug_no_url_can_hold(tmp_path, db, client, capsys, slug):
    path = write(tmp_path, HEADER + f"2023-02-14T09:01:10Z,{slug},FR,503,climate\n")
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_reports", str(path), "--create-services")
    assert f"line 2: service: {slug!r} is not a valid slug" in capsys.readouterr().err
    assert not Service.objects.exists() and not Report.objects.exists()
    assert client.get("/").status_code == 200


def test_create_services_refuses_a_feature_slug_with_spaces(tmp_path, db, capsys):
    path = write(tmp_path, HEADER + "2023-02-14T09:01:10Z,tesla,FR,503,remote unlock\n")
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_reports", str(path), "--create-services")
    assert "feature: 'remote unlock' is not a valid slug" in capsys.readouterr().err
    assert not Service.objects.exists()
