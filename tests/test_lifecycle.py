"""The incident lifecycle state machine, minute by minute (no database)."""

from datetime import timedelta

import pandas as pd

from analytics.core.lifecycle import OPENED, RESOLVED, UPDATED, LifecycleConfig, advance
from analytics.core.scoring import Verdict

T0 = pd.Timestamp("2023-02-14 09:00", tz="UTC")
CFG = LifecycleConfig(recovery_minutes=15, merge_gap=timedelta(hours=2))


def verdicts(pattern: str, start=T0):
    """'P' = problems with fresh evidence, '.' = back near the baseline, 'p' = problems lingering only."""
    for i, c in enumerate(pattern):
        level, elevated = {"P": (2, True), ".": (0, False), "p": (2, False)}[c]
        yield Verdict(minute=start + timedelta(minutes=i), level=level, alarm_keys=("region:EU",) if level else (),
                      elevated=elevated, count=30.0 if elevated else 1.0, expected=1.0,
                      onset=start + timedelta(minutes=max(i - 3, 0)))  # fmt: skip


def run(pattern: str):
    state, log = None, []
    for v in verdicts(pattern):
        state, events = advance(state, v, CFG)
        log += [(v.minute, e) for e in events]
    return state, log


def test_it_opens_at_problems_with_the_estimated_onset():
    state, log = run("...PPP")
    assert log == [(T0 + timedelta(minutes=3), OPENED)]
    assert state.started_at == T0 and state.detected_at == T0 + timedelta(minutes=3)


def test_it_resolves_after_the_recovery_period_ending_at_the_first_recovered_minute():
    state, log = run("PPPP" + "." * 14)
    assert state.status == "ongoing"
    state, log = run("PPPP" + "." * 15)
    assert state.status == "resolved" and log[-1][1] == RESOLVED
    assert state.ended_at == T0 + timedelta(minutes=4)


def test_lingering_long_window_evidence_does_not_hold_the_incident_open():
    state, _ = run("PPPP" + "p" * 15)
    assert state.status == "resolved"


def test_a_relapse_within_the_gap_is_a_new_phase_of_the_same_incident():
    state, log = run("PPPP" + "." * 25 + "PPP")
    # The level falling back to normal is an update too, then the recovery resolves it.
    assert [e for _, e in log] == [OPENED, UPDATED, RESOLVED, UPDATED]
    assert state.status == "ongoing" and len(state.phases) == 2
    assert state.phases[0][1] == T0 + timedelta(minutes=4)
    assert state.phases[1][0] >= state.phases[0][1]


def test_a_relapse_after_the_gap_opens_a_new_incident():
    state, log = run("PPPP" + "." * 130 + "PPP")
    assert [e for _, e in log] == [OPENED, UPDATED, RESOLVED, OPENED]
    assert len(state.phases) == 1


def test_the_quiet_that_ends_a_long_outage_grows_with_its_length():
    # Five hours in: a 25-minute dip is a fading tail, not the end (a tenth of five hours is 30
    # minutes), so the bursts after it are the same phase; 30 quiet minutes end it, at the first one.
    state, log = run("P" * 300 + "." * 25 + "PPP")
    assert state.status == "ongoing" and len(state.phases) == 1
    assert RESOLVED not in [e for _, e in log]
    state, _ = run("P" * 300 + "." * 30)
    assert state.status == "resolved" and state.ended_at == T0 + timedelta(minutes=300)
    state, _ = run("P" * 300 + "." * 29)
    assert state.status == "ongoing"
