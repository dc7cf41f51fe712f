"""The app factory: wires settings, the warehouse runner, the layout and the callbacks.

Importing this module builds nothing: `create_app()` does, called by wsgi.py (what
gunicorn serves, `wsgi:server`) and by the tests. Nothing here knows about questions,
SQL or figures.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import flask

import callbacks
import serving
from components import layout
from config import REPO_ROOT, check_exposure, load_settings
from queries import organisations, runner
from serving import lazy_scripts, static_caching, warm_up
from serving.observability import LogLineFormatter

TITLE = "Accurx feature analytics"


def _configure_logging(level: str) -> None:
    logger = logging.getLogger("accurx")
    logger.setLevel(level)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(LogLineFormatter())  # one line per record, controls escaped
        logger.addHandler(handler)


def create_app(overrides: dict[str, Any] | None = None) -> dash.Dash:
    """A configured Dash app. `overrides` take precedence over the environment
    (keys are the variable names documented in config.py). Raises config.ConfigError,
also for a deployment config.check_exposure refuses."""
    settings = load_settings(overrides)
    _configure_logging(settings.log_level)
    check_exposure(settings)  # no sign-in where customer data would leave this machine
    server = flask.Flask(__name__)
    # Read when Dash installs flask-compress (compress=True): brotli first (static_caching).
    server.config.update(static_caching.COMPRESSION)
    app = dash.Dash(
        __name__,
        server=server,
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
    # dash-ag-grid's script only on pages that show a grid (serving/lazy_scripts.py).
    lazy_scripts.defer_ag_grid(app)
    warehouse = runner.init_app(app.server, settings)
    app.layout = layout.shell()
    callbacks.register_callbacks(app)
    # Sign-in, health probes, headers, request checks, callback logs (serving/__init__.py).
    serving.install(app, warehouse.readiness, settings.serving)
    # Re-renders every page's default view after each build (serving/warm_up.py); the
    # first build is noticed by the in-process request of _warm_up.
    warm_up.install(app, lambda: layout.default_urls(organisations.all_organisations()["organisation_id"]),
                    settings.warm_up_seconds)
    _warm_up(app)
    logging.getLogger("accurx.app").info("app created %s", settings.describe())
    return app



def _warm_up(app: dash.Dash) -> None:
    """Serve one request in-process now. Dash prepares its registry of script paths on
    the first request it serves, without a lock: with threaded workers two parallel
    first requests could race and one get a 500. Any path does (Dash's preparation
    runs before every other request hook, sign-in included); the answer is ignored."""
    app.server.test_client().get("/healthz")  # let through by sign-in, so it also starts the warm-up
