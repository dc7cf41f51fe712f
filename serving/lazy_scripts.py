"""dash-ag-grid's script is loaded when a grid is about to be seen, not by every page.

Dash writes the scripts of every imported component library into every page, and
dash-ag-grid's main bundle is the largest after plotly (1.3 MB, about 340 KB
compressed): most first views (Access, Usage, Unpaid without a pick) show no grid but
paid for it before their first chart. `defer_ag_grid` marks that bundle `dynamic` in
the library's own resource list (the `_js_dist` entries every Dash component library
declares; Dash still registers and serves a dynamic file, it only leaves it out of the
page) and puts its fingerprinted address in a `<meta>` tag. `assets/lazy-ag-grid.js`
stands in for `dash_ag_grid.AgGrid` until then: a placeholder of the grid's size, which
loads the bundle once when it comes within 300 px of the view (a grid in the first view
at once, one further down when scrolled near; printing and a CSV export at once), after
which every grid is drawn by the real component with the same props; the bundle's own
grid modules stay in their `async` chunk, as before.
"""

from __future__ import annotations

from pathlib import Path

import dash
import dash_ag_grid
from dash.fingerprint import build_fingerprint

BUNDLE = "dash_ag_grid.min.js"
META_NAME = "accurx-lazy-ag-grid"  # read by assets/lazy-ag-grid.js


def bundle_url(requests_pathname_prefix: str) -> str:
    """The bundle's fingerprinted address, as Dash writes it (version and modification
    time), so that it is cached as immutable like every other script."""
    modified = int((Path(dash_ag_grid.__file__).parent / BUNDLE).stat().st_mtime)
    fingerprint = build_fingerprint(BUNDLE, dash_ag_grid.__version__, modified)
    return f"{requests_pathname_prefix}_dash-component-suites/{dash_ag_grid.package_name}/{fingerprint}"


def defer_ag_grid(app: dash.Dash) -> None:
    """Leave dash-ag-grid's bundle out of `app`'s pages and tell the page where it is."""
    entries = [entry for entry in dash_ag_grid._js_dist if entry.get("relative_package_path") == BUNDLE]
    if len(entries) != 1:  # a new dash-ag-grid release renamed its bundle: fail loudly
        raise RuntimeError(f"dash-ag-grid {dash_ag_grid.__version__} has no single {BUNDLE} "
                           "entry to defer; update serving/lazy_scripts.py")
    entries[0]["dynamic"] = True
    tags = app.config.meta_tags
    if not any(tag.get("name") == META_NAME for tag in tags):
        tags.append({"name": META_NAME, "content": bundle_url(app.config.requests_pathname_prefix)})
