"""Personal data: user names and e-mails never reach a page or a CSV; user ids only reach
viewers allowed by ACCURX_PII_VIEWER_GROUPS (nobody by default, nobody without sign-in).

What the app could leak is read from the demo's own raw USER exports (every e-mail,
name and id the warehouse was loaded with); every page is then opened the way the
browser does (render_page, then each callback of the rendered controls) and each
answer searched. A grid's CSV export holds the grid's rows, so the rows searched are
the CSV; one test also downloads a CSV in chromium.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from serving_support import (
    ALLOWED_GROUP,
    PII_GROUP,
    browser_fixtures,
    page_callbacks,
    signed_in_user,
)

from serving.personal_data import protect_users, pseudonyms

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PSEUDONYM = re.compile(r"User \d+")


@pytest.fixture(scope="module")
def people(demo_warehouse) -> dict:
    """Every e-mail, full name, name part, user id and application user id in the raw
    USER files (read as text: the demo plants malformed payloads too)."""
    def values(key: str, text: str) -> list[str]:
        return re.findall(rf'"{key}"\s*:\s*"?([^",}}]+)', text)

    found = {"emails": set(), "full_names": set(), "name_parts": set(), "user_ids": set(),
             "app_ids": set()}
    for path in sorted(demo_warehouse.raw_dir.glob("user*.csv*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                payload = row["PAYLOAD"]
                found["emails"].update(values("email", payload))
                firsts, lasts = values("firstName", payload), values("lastName", payload)
                found["full_names"].update(f"{f} {last}" for f, last in zip(firsts, lasts))
                found["name_parts"].update(firsts + lasts)
                found["user_ids"].update(values("userId", payload))
                found["app_ids"].update(values("applicationUserId", payload))
    assert len(found["emails"]) > 100 and len(found["user_ids"]) > 100
    # Accurx support staff act for customers: their user ids appear in events, not in USER exports.
    staff = re.search(r'"accurx_staff_user_ids": \[([^\]]*)\]', json.dumps(demo_warehouse.manifest))
    assert staff, "the demo manifest lists the Accurx staff user ids"
    found["user_ids"].update(user.strip() for user in staff.group(1).split(",") if user.strip())
    return found


def page_paths(customer_id: int) -> list[str]:
    return [
        "/", "/?tab=access&pick=SMS%7CSMS+Plus",
        f"/?tab=entitlements&customer={customer_id}",
        "/?tab=usage&period=all", "/?tab=usage&period=all&order=most&top=50",
        "/?tab=unpaid&period=all", f"/?tab=unpaid&period=all&customer={customer_id}",
        "/?tab=churn",
        f"/customer/{customer_id}",
    ]


def answers(app, paths, session_user=None) -> list[dict]:
    """Every callback answer (JSON) of every page in `paths`."""
    client = app.server.test_client()
    if session_user is not None:
        with client.session_transaction() as session:
            session["user"] = signed_in_user(session_user["sub"], session_user["groups"])
    found = []
    for path in paths:
        for name, response in page_callbacks(app, client, path):
            assert response.status_code in (200, 204), (path, name, response.status_code)
            if response.status_code == 200:
                found.append(response.get_json())
    return found


def grid_rows(node) -> list[dict]:
    """Every rowData row of every AG Grid in a callback answer (what its CSV exports)."""
    rows = []
    if isinstance(node, list):
        for child in node:
            rows += grid_rows(child)
    elif isinstance(node, dict):
        if node.get("type") == "AgGrid" and isinstance(node.get("props"), dict):
            rows += node["props"].get("rowData") or []
        for value in node.values():
            rows += grid_rows(value)
    return rows


def user_column(rows: list[dict]) -> list:
    return [row["user_id"] for row in rows if "user_id" in row]


@pytest.fixture(scope="module")
def anonymous_answers(demo_app, busy_customer):
    return answers(demo_app, page_paths(busy_customer))


def test_no_email_or_name_on_any_page_or_in_any_grid(anonymous_answers, people):
    text = json.dumps(anonymous_answers)
    assert not EMAIL.search(text), EMAIL.search(text).group(0)
    assert not [name for name in people["full_names"] if name in text]
    assert not [app_id for app_id in people["app_ids"] if app_id in text]
    rows = [row for answer in anonymous_answers for row in grid_rows(answer)]
    assert len(rows) > 100
    cells = {str(value) for row in rows for value in row.values()}
    assert not cells & people["name_parts"], "a grid (and so its CSV) holds a user's name"
    assert not any(EMAIL.fullmatch(cell) for cell in cells)


def test_user_ids_are_pseudonyms_for_a_viewer_without_permission(anonymous_answers, people):
    rows = [row for answer in anonymous_answers for row in grid_rows(answer)]
    users = user_column(rows)
    assert len(users) > 20, "the unpaid-event lists were not opened"
    assert all(PSEUDONYM.fullmatch(str(user)) for user in users), users[:5]
    cells = {str(value) for row in rows for value in row.values()}
    assert not cells & people["user_ids"], "a real user id is in a grid (and so its CSV)"


@pytest.fixture(scope="module")
def signed_in_app(make_app):
    """Sign-in configured (an issuer that is never called: sessions are set directly)."""
    return make_app(OIDC_ISSUER="https://issuer.invalid", OIDC_CLIENT_ID="dashboard",
                    OIDC_CLIENT_SECRET="not-used", SECRET_KEY="x" * 32,
                    OIDC_ALLOWED_GROUPS=ALLOWED_GROUP, ACCURX_PII_VIEWER_GROUPS=PII_GROUP)


def test_only_a_member_of_a_viewer_group_sees_user_ids(signed_in_app, busy_customer, people):
    paths = [f"/?tab=unpaid&period=all&customer={busy_customer}", f"/customer/{busy_customer}"]
    member = answers(signed_in_app, paths, {"sub": "carol", "groups": [ALLOWED_GROUP, PII_GROUP]})
    shown = user_column([row for answer in member for row in grid_rows(answer)])
    assert shown and {str(user) for user in shown} <= people["user_ids"]

    other = answers(signed_in_app, paths, {"sub": "alice", "groups": [ALLOWED_GROUP]})
    masked = user_column([row for answer in other for row in grid_rows(answer)])
    assert len(masked) == len(shown) and all(PSEUDONYM.fullmatch(str(u)) for u in masked)
    assert not EMAIL.search(json.dumps(member))


def test_viewer_groups_without_sign_in_show_nobody_user_ids(make_app, busy_customer, caplog):
    with caplog.at_level("WARNING", logger="accurx.personal_data"):
        app = make_app(ACCURX_PII_VIEWER_GROUPS=PII_GROUP)
    assert "sign-in is not configured" in caplog.text
    rows = [row for answer in answers(app, [f"/customer/{busy_customer}"]) for row in grid_rows(answer)]
    assert user_column(rows) and all(PSEUDONYM.fullmatch(str(u)) for u in user_column(rows))


def test_pseudonyms_number_users_by_first_appearance_in_one_table():
    frame = pd.DataFrame({"user_id": [100042, 100007, 100042, None], "email": ["a@b.c"] * 4})
    out = protect_users(frame)
    assert out["user_id"].tolist() == ["User 1", "User 2", "User 1", None]
    assert "email" not in out.columns
    assert pseudonyms(pd.Series([], dtype=object)).tolist() == []


@pytest.mark.browser
def test_downloaded_csv_of_unpaid_events_has_no_user_ids(demo_warehouse, busy_customer, people, browser):
    """The real CSV, exported by AG Grid in chromium from the customer page."""
    with browser_fixtures.serve_app(demo_warehouse.db_path, workers=1) as base_url:
        context = browser.new_context(accept_downloads=True, base_url=base_url)
        try:
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"/customer/{busy_customer}")
            browser_fixtures.scroll_to_grid(page)  # grids below the first view are drawn when scrolled near
            grid = page.locator(".grid-block", has=page.locator("[col-id='user_id']"))
            grid.locator(".ag-row").first.wait_for()
            with page.expect_download() as info:
                grid.get_by_role("button", name="Download CSV").click()
            text = Path(info.value.path()).read_text(encoding="utf-8-sig")
        finally:
            context.close()
    rows = list(csv.reader(io.StringIO(text)))
    column = rows[0].index("User id")
    assert len(rows) > 5 and all(PSEUDONYM.fullmatch(row[column]) for row in rows[1:])
    assert not EMAIL.search(text)
    assert not {cell for row in rows for cell in row} & (people["user_ids"] | people["name_parts"])
