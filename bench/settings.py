"""Production settings plus the bench-only reference views (never used outside bench/)."""

import os
from pathlib import Path

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

if os.environ.get("TREMOR_BENCH_STATIC_ROOT"):
    # Full runs: collectstatic into the run's temp dir, served by WhiteNoise as in production.
    STATIC_ROOT = Path(os.environ["TREMOR_BENCH_STATIC_ROOT"])
else:
    # Smoke runs skip collectstatic (~11 s): files straight from the finders, as in the tests.
    STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
    WHITENOISE_USE_FINDERS = True
