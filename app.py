"""The app factory: wires settings, the warehouse runner, the layout and the callbacks.

gunicorn serves `app:server`. Nothing here knows about questions, SQL or figures.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import dash

import callbacks
import serving
from components import layout
from config import REPO_ROOT, load_settings
from queries import runner

TITLE = "Accurx feature analytics"


def _configure_logging(level: str) -> None:
    logger = logging.getLogger("accurx")
    logger.setLevel(level)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)


def create_app(overrides: dict[str, Any] | None = None) -> dash.Dash:
    """A configured Dash app. `overrides` take precedence over the environment
    (keys are the variable names documented in config.py and serving/). Raises
    config.ConfigError, serving.ServingConfigError or serving.auth.SignInConfigError."""
    settings = load_settings(overrides)
    _configure_logging(settings.log_level)
    app = dash.Dash(
        __name__,
        title=TITLE,
        index_string=layout.INDEX_STRING,
        update_title=None,
        assets_folder=str(REPO_ROOT / "assets"),
        serve_locally=True,
        compress=True,
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.server.config["ACCURX_SETTINGS"] = settings
    warehouse = runner.init_app(app.server, settings)
    app.layout = layout.shell()
    callbacks.attach(app)
    # Sign-in, health probes, headers, request checks, callback logs (serving/__init__.py).
    serving.install(app, warehouse.readiness, {**os.environ, **(overrides or {})})
    # Dash prepares its registry of script paths on the first request, without a lock:
    # with threaded workers a parallel first request for a script can get a 500. Do it now.
    with app.server.test_request_context("/"):
        app._setup_server()
    logging.getLogger("accurx.app").info("app created %s", settings.describe())
    return app


app = create_app()
server = app.server
