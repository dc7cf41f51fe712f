# syntax=docker/dockerfile:1
# The dashboard image. Default: serves an embedded demo warehouse built at image build time.
# Production: set ACCURX_WAREHOUSE=snowflake plus the Snowflake settings (see README.md).
# It listens on 0.0.0.0, so it refuses to start without sign-in (OIDC_*) unless
# ACCURX_ALLOW_ANONYMOUS=1 is given on purpose (the demo: see README.md, Container).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    DO_NOT_TRACK=1 \
    HOST=0.0.0.0 \
    PORT=8050 \
    WORKERS=3 \
    ACCURX_DUCKDB_PATH=/app/data/accurx.duckdb

RUN groupadd --system --gid 10001 accurx && useradd --system --uid 10001 --gid accurx --home-dir /app --shell /usr/sbin/nologin accurx

WORKDIR /app

# Dependencies first (cached layer): the runtime dependencies of pyproject.toml, at the
# exact versions of the lock file.
COPY pyproject.toml constraints.txt ./
RUN pip install --constraint constraints.txt .

COPY --chown=10001:10001 . .
RUN mkdir -p /app/data && chown 10001:10001 /app /app/data

# The embedded demo warehouse, built once at image build time; raw files are dropped after.
USER 10001:10001
RUN python -m warehouse demo --out /tmp/raw --scale demo --seed 42 \
    && python -m warehouse load /tmp/raw --db "$ACCURX_DUCKDB_PATH" \
    && python -m warehouse build --db "$ACCURX_DUCKDB_PATH" \
    && rm -rf /tmp/raw warehouse/target warehouse/logs

EXPOSE 8050
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8050'), timeout=4)"]

# The same start command as `make run`.
CMD ["scripts/serve.sh"]
