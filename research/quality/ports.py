"""The only place the harness imports existing Tremor modules.

The package layout is being reorganised (analytics/ -> analytics/core/,
NAB code -> research/, scenarios -> demo/): repoint these imports and
nothing else in research/quality/ needs to change.
"""

from analytics.detection import NAB_CONFIG, TREMOR_CONFIG, detect_frame, detect_series  # noqa: F401
from analytics.lifecycle import DEFAULT_LIFECYCLE, IncidentState  # noqa: F401
from analytics.nab import (  # noqa: F401
    PROFILES,
    detection_to_flags,
    load_series,
    load_windows,
    normalised_scores,
    score_all_profiles,
)
from analytics.scope import incident_scope, is_regional  # noqa: F401
from analytics.slices import SCOPE_DIMENSIONS, TOTAL, split_key  # noqa: F401
from analytics.verdicts import Scored, incidents_over, scope_of  # noqa: F401
