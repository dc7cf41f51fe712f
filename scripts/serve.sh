#!/usr/bin/env sh
# The one start command, shared by `make run` and the container image, so both serve alike.
# HOST/PORT/WORKERS (and everything else) are read by gunicorn.conf.py through config.py.
set -eu
cd "$(dirname "$0")/.."
GUNICORN="${GUNICORN:-gunicorn}"
[ -x .venv/bin/gunicorn ] && [ "$GUNICORN" = gunicorn ] && GUNICORN=.venv/bin/gunicorn
exec "$GUNICORN" --config gunicorn.conf.py \
  wsgi:server
