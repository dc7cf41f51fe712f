"""The app with every Dash callback request body a client sent appended to
$ACCURX_CAPTURE_FILE (one JSON line each), for the load benchmark to replay. The
server's own warm-up requests (serving/warm_up.py, in-process) are not recorded: they
are not what a browser sends, and at demo scale they are ~950 bodies, which made the
per-callback benchmark time every page of every customer. Benchmarks only."""

from __future__ import annotations

import io
import json
import os

from serving.warm_up import ENVIRON_KEY as WARM_UP_KEY
from wsgi import server as app_server

CAPTURE_FILE = os.environ["ACCURX_CAPTURE_FILE"]
_inner = app_server.wsgi_app


def _capturing(environ, start_response):
    if (environ.get("PATH_INFO") == "/_dash-update-component" and environ.get("REQUEST_METHOD") == "POST"
            and WARM_UP_KEY not in environ):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        with open(CAPTURE_FILE, "a") as out:
            out.write(json.dumps({"page": environ.get("HTTP_X_BENCH_PAGE", ""),
                                  "body": body.decode()}) + "\n")
    return _inner(environ, start_response)


app_server.wsgi_app = _capturing
server = app_server
