"""The intake catalog of services and features while the database is away (reports/catalog.py)."""

import pytest
from django.db import OperationalError

from reports import catalog as catalog_module
from reports.catalog import Catalog


def _database_down(self):
    # What psycopg raises through Django when PostgreSQL refuses the connection.
    raise OperationalError("connection refused")


@pytest.mark.django_db
def test_a_process_that_never_had_a_copy_takes_the_shared_one(tesla, monkeypatch):
    Catalog().service("tesla")  # some other worker loaded it while the database was up
    late = Catalog()  # a worker started during the outage
    monkeypatch.setattr(Catalog, "_load", _database_down)
    entry = late.service("tesla")
    assert entry is not None and entry.id == tesla.id and "sentinel-mode" in entry.features


@pytest.mark.django_db
def test_with_no_copy_anywhere_the_outage_is_told(tesla, monkeypatch):
    monkeypatch.setattr(Catalog, "_load", _database_down)
    monkeypatch.setattr(catalog_module.cache, "get", lambda key, default=None: None)
    with pytest.raises(OperationalError):
        Catalog().service("tesla")
