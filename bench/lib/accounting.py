"""What a load run acknowledged against what the database stored, once the flusher has emptied the log.

Shared by the surge (bench/surge.py) and the soak (bench/soak.py). Runs inside a
process with Django set up on the stack's database and Redis.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from .load import Tally


def drain(*, timeout: float) -> float:
    """Seconds until the intake log is empty (every entry stored); raises if it is not within `timeout`."""
    from reports import intake_log

    started = time.monotonic()
    while intake_log.client().xlen(intake_log.stream_key()):
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the flusher did not empty the log in {timeout:.0f} s: {intake_log.lag()}")
        time.sleep(0.1)
    return time.monotonic() - started


@dataclass(frozen=True)
class Accounting:
    acknowledged: int  # 201 answers
    from_log: int  # of which acknowledged from the intake log (the others were INSERTed directly)
    stored: int  # rows of the run's services
    lost: int  # acknowledged, not stored
    extra: int  # stored, never acknowledged
    duplicate_answers: int  # one stream entry or report id in two 201s
    duplicate_rows: int  # one reporter stored twice (the rows' fingerprints are not all distinct)

    @property
    def exact(self) -> bool:
        """Every 201 is one stored row, nothing else is stored, nothing twice."""
        return self.stored == self.acknowledged and self.lost == self.extra == 0 == self.duplicate_answers

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def account(tallies: list[Tally], rows) -> Accounting:
    """The 201 bodies of `tallies` (kept by load.Stream(keep_201=True)) against the Report queryset `rows`.

    A 201 from the log names its stream entry (`log_entry`), which the flusher stores as the
    row's unique `log_entry`; a 201 of the direct INSERT names its row id.
    """
    from reports.intake_log import entry_number

    entries, ids = [], []
    for tally in tallies:
        for body in tally.created:
            answer = json.loads(body)
            if answer.get("log_entry"):
                entries.append(entry_number(answer["log_entry"]))
            else:
                ids.append(answer["id"])
    stored_entries = set(rows.filter(log_entry__isnull=False).values_list("log_entry", flat=True))
    stored_ids = set(rows.filter(log_entry__isnull=True).values_list("id", flat=True))
    stored = rows.count()
    return Accounting(
        acknowledged=len(entries) + len(ids),
        from_log=len(entries),
        stored=stored,
        lost=len(set(entries) - stored_entries) + len(set(ids) - stored_ids),
        extra=len(stored_entries - set(entries)) + len(stored_ids - set(ids)),
        duplicate_answers=len(entries) - len(set(entries)) + len(ids) - len(set(ids)),
        duplicate_rows=stored - rows.order_by().values("fingerprint").distinct().count(),
    )
