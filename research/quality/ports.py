"""The only place the harness imports existing Tremor modules.

Repoint these imports when the product's layout moves; nothing else in
research/quality/ needs to change.
"""

from analytics.core.detection import TREMOR_CONFIG, detect_frame, detect_series  # noqa: F401
from analytics.core.lifecycle import DEFAULT_LIFECYCLE, IncidentState, incidents_over  # noqa: F401
from analytics.core.scope import incident_scope, is_regional, scope_of  # noqa: F401
from analytics.core.scoring import Scored  # noqa: F401
from analytics.core.slices import SCOPE_DIMENSIONS, TOTAL, split_key  # noqa: F401
from research.evaluation import series_openings  # noqa: F401
from research.nab import (  # noqa: F401
    PROFILES,
    load_series,
    load_windows,
    normalised_scores,
    score_all_profiles,
)
