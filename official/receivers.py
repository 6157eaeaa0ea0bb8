"""What official does when the services import (reports) stores a row."""

from .services import source_set

KIND_COLUMN, URL_COLUMN = "official_kind", "official_url"


def on_service_imported(sender, *, service, row: dict, line: int, **kwargs) -> None:
    """Columns official_kind and official_url, both optional; a bad value aborts the import (ValueError)."""
    kind, url = (row.get(KIND_COLUMN) or "").strip(), (row.get(URL_COLUMN) or "").strip()
    if not kind and not url:
        return
    try:
        source_set(service=service, kind=kind or "none", url=url)
    except ValueError as exc:
        raise ValueError(f"line {line}: {exc}") from None
