"""The NAB benchmark's configuration: the detector's knobs plus how its output becomes NAB flags.

The flag knobs live here, not in `DetectorConfig`: the live product never
reads them, and the profile store's version hashes `DetectorConfig`, so a
benchmark knob must not force live profiles to be fitted again.
"""

from dataclasses import dataclass, replace

from analytics.core.baseline import DetectorConfig


@dataclass(frozen=True)
class NabConfig:
    detector: DetectorConfig
    flag_level: int = 2
    rearm_minutes: float = 360.0
    # Flag source: "level" (level >= flag_level, re-armed after rearm_minutes at
    # level 0) or "likelihood" (research.likelihood on the evidence, then no new
    # flag for rearm_minutes after a flag).
    flag_source: str = "level"
    flag_warmup_minutes: float = 0.0  # no flags this soon after the series starts
    likelihood_cap: float = 30.0  # evidence saturates here (one huge spike is not a trend)
    likelihood_short_minutes: float = 60.0  # short-term mean of capped evidence
    likelihood_long_minutes: float = 28 * 1440.0  # long-term evidence distribution
    likelihood_min_minutes: float = 1440.0  # long-term history needed before scoring
    likelihood_threshold: float = 3.0  # -log10 tail probability that flags
    # Prominence gate on the likelihood flags (0 = off): the trailing sum over
    # `prominence_minutes` must also reach `prominence_ratio` times the
    # `prominence_quantile` of the series' own earlier trailing sums. A burst
    # must stand out against the series' whole range, not only against its
    # time-of-day baseline (research.likelihood.prominence).
    prominence_minutes: float = 0.0
    prominence_quantile: float = 0.995
    prominence_ratio: float = 1.75

    @property
    def step_minutes(self) -> float:
        return self.detector.step_minutes

    @property
    def refit_minutes(self) -> float:
        return self.detector.refit_minutes


# NAB realTweets: 5-minute tweet counts with heavy-tailed bursts. Same time
# constants as Tremor; a more tail-aware dispersion (0.95 quantile) and a
# stricter evidence bar keep the many unlabelled tweet bursts from firing.
# Tuned on all 7 NAB files (see research/NAB_TUNING.md for the held-out checks).
NAB_CONFIG = NabConfig(
    detector=replace(
        DetectorConfig(),
        step_minutes=5.0,
        dispersion_quantile=0.95,
        problems_evidence=10.0,
        possible_evidence=5.0,
        refit_minutes=120.0,
    ),
    # Flags from the anomaly likelihood of the evidence (research.likelihood):
    # 2-hour mean of capped evidence against all earlier evidence (56 days is
    # longer than any NAB file), one flag per 36 h, none in NAB's 750-row
    # probationary period (3750 min of 5-min rows).
    flag_source="likelihood",
    rearm_minutes=2160.0,
    flag_warmup_minutes=3750.0,
    likelihood_cap=30.0,
    likelihood_short_minutes=120.0,
    likelihood_long_minutes=56 * 1440.0,
    likelihood_min_minutes=1440.0,
    # Round 3: a lower likelihood bar, but the 15-minute count must also reach
    # 1.75x the 99.5% quantile of the series' earlier 15-minute counts: routine
    # peaks of a busy series no longer flag, the bursts that stand out on the
    # plot do.
    likelihood_threshold=1.0,
    prominence_minutes=15.0,
    prominence_quantile=0.995,
    prominence_ratio=1.75,
)
