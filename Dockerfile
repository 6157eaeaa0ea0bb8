# Tremor's image: one image, one Procfile process per container (compose.yaml runs them all).
# Runtime requirements only (requirements.txt); runs as an unprivileged user on port 8000.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv
WORKDIR /app
# Dependencies first: a code change does not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are part of the image (whitenoise serves them with hashed names).
RUN SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --noinput -v 0 \
    && rm -f /tmp/build.sqlite3 \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin tremor \
    && mkdir -p /app/var /tmp/prometheus \
    && chown tremor /app/var /tmp/prometheus

USER tremor
# Listen on every interface inside the container; beat's state and the gunicorn workers' metrics
# go where the unprivileged user may write.
ENV TREMOR_BIND=0.0.0.0:8000 \
    TREMOR_BEAT_SCHEDULE=/app/var/celerybeat-schedule \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    TREMOR_REQUIRE_SECRET_KEY=1
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/', timeout=4)"]
CMD ["gunicorn", "config.wsgi", "-c", "config/gunicorn.py"]
