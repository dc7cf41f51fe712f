"""Who may see data about individual users, and what everyone else sees instead.

The warehouse's staging never unpacks user names or e-mail addresses, so the only
personal data that can reach a page is the user id of an event (the unpaid-event
lists). It is shown only to signed-in members of `ACCURX_PII_VIEWER_GROUPS` (config.py)
(comma-separated group names or ids, as in OIDC_ALLOWED_GROUPS; default: nobody, and
nobody without sign-in). Everyone else sees "User 1", "User 2", ... numbered by first
appearance in that one table: who did what within the list stays readable, but the
id cannot be looked up or matched across tables. The grid's CSV export holds what the
grid holds, so exports follow the same rule.

Callbacks call `protect_users(frame)` on any query result with a user column before
handing it to a component.
"""

from __future__ import annotations

import logging

import flask
import pandas as pd

from serving.auth import current_user

log = logging.getLogger("accurx.personal_data")

CONFIG_KEY = "ACCURX_PII_VIEWER_GROUPS"
USER_ID_COLUMNS = ("user_id",)
# Never shown to anyone: nothing in the app needs them (and no view has them today).
DROPPED_COLUMNS = ("email", "first_name", "last_name", "full_name", "user_name",
                   "application_user_id")


def install(server: flask.Flask, groups: frozenset[str], sign_in_enabled: bool) -> None:
    """Remember the viewer groups (config.py's ACCURX_PII_VIEWER_GROUPS); none without sign-in."""
    if groups and not sign_in_enabled:
        log.warning("%s is set but sign-in is not configured: nobody can be recognised as a "
                    "viewer of personal data, so user ids stay masked", CONFIG_KEY)
    server.config[CONFIG_KEY] = groups if sign_in_enabled else frozenset()


def viewer_may_see_personal_data() -> bool:
    """True only for a signed-in member of a configured personal-data viewer group."""
    if not flask.has_app_context():
        return False
    allowed = flask.current_app.config.get(CONFIG_KEY) or frozenset()
    user = current_user()
    return bool(allowed and user and allowed & set(user.get("groups", [])))


def pseudonyms(values: pd.Series) -> pd.Series:
    """'User 1', 'User 2', ... by first appearance; missing stays missing."""
    codes: dict = {}
    for value in values.dropna():
        codes.setdefault(value, f"User {len(codes) + 1}")
    return values.map(codes).astype(object).where(values.notna(), None)


def protect_users(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` as the current viewer may see it: user ids pseudonymised unless the viewer
    may see personal data; names and e-mail columns dropped for everyone."""
    out = frame.drop(columns=[c for c in DROPPED_COLUMNS if c in frame.columns])
    if viewer_may_see_personal_data():
        return out
    for column in USER_ID_COLUMNS:
        if column in out.columns:
            out = out.assign(**{column: pseudonyms(out[column])})
    return out
