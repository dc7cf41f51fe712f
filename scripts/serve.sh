#!/usr/bin/env sh
# The one start command, shared by `make run` and the container image, so both serve alike.
# HOST/PORT/WORKERS come from the environment; gunicorn.conf.py holds everything else.
set -eu
cd "$(dirname "$0")/.."
GUNICORN="${GUNICORN:-gunicorn}"
[ -x .venv/bin/gunicorn ] && [ "$GUNICORN" = gunicorn ] && GUNICORN=.venv/bin/gunicorn
exec "$GUNICORN" --config gunicorn.conf.py \
  --bind "${HOST:-127.0.0.1}:${PORT:-8050}" \
  --workers "${WORKERS:-2}" \
  wsgi:server
