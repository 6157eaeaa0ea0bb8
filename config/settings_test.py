"""Production settings, served over plain HTTP to the test client and browser."""

import os

os.environ.setdefault("TREMOR_HTTPS", "0")
os.environ.setdefault("TREMOR_STATIC_FINDERS", "1")
os.environ.setdefault("TREMOR_CACHE_PREFIX", "tremor-test")
# Test receivers listen on 127.0.0.1.
os.environ.setdefault("TREMOR_WEBHOOK_ALLOW_PRIVATE_TARGETS", "1")
os.environ.setdefault("TREMOR_OFFICIAL_ALLOW_PRIVATE_TARGETS", "1")
# Production refuses to start without a key; the tests' worker processes inherit this one.
os.environ.setdefault("SECRET_KEY", "tests-" + "k" * 50)

from .settings import *  # noqa: E402,F403

# Static files straight from the finders: tests need no collectstatic run.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A file, not SQLite's in-memory default: Celery workers started by the tests
# run in other processes and must see the same test database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(os.environ.get("TREMOR_TEST_TMP", str(VAR_DIR)), "test.sqlite3")  # noqa: F405
    }
