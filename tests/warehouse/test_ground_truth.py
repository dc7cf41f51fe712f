"""The built presentation views recover the demo generator's ground truth exactly.

The generator plants every fault, duplicate, unpaid reason and entitlement change from
a simulation and writes what it planted to `manifest.json`; the warehouse only sees the
raw files. Each test reads one answer from the 04_PRESENTATION views (as the dashboard
does) and compares it with the manifest: any disagreement is a misreading of METRICS.md
on one side or the other.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

PRESENTATION = '"04_PRESENTATION"'


@pytest.fixture(scope="module")
def views(demo_warehouse):
    """Run a query against the built warehouse (read-only) and return all rows."""
    con = duckdb.connect(str(demo_warehouse.db_path), read_only=True)

    def query(sql: str, parameters: list | None = None) -> list[tuple]:
        return con.execute(sql, parameters or []).fetchall()

    yield query
    con.close()


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {key: value for key, value in counts.items() if value}


def test_data_quality_matches_manifest_tables(views, demo_warehouse):
    rows = views(
        f"select source_table, raw_rows, modeled_rows, duplicate_rows, quarantined_rows "
        f"from {PRESENTATION}.data_quality"
    )
    built = {
        table: {"raw_rows": raw, "modeled_rows": modeled, "duplicate_rows": duplicate,
                "quarantined_rows": quarantined}
        for table, raw, modeled, duplicate, quarantined in rows
    }  # fmt: skip
    assert built == demo_warehouse.manifest["tables"]


def test_raw_rows_are_modeled_plus_duplicate_plus_quarantined(views, demo_warehouse):
    """Nothing silently dropped: the generator's raw row count is recovered from the
    modeled and duplicate counts plus the rows actually listed in the quarantine view."""
    listed = dict(
        views(f"select source_table, count(*) from {PRESENTATION}.quarantine group by all")
    )
    dq = {row[0]: row[1:] for row in views(f"select * from {PRESENTATION}.data_quality")}
    assert set(dq) == {"EVENT", "FEATURE", "USER"}
    for table, truth in demo_warehouse.manifest["tables"].items():
        raw_rows, modeled, duplicate, quarantined = dq[table]
        assert quarantined == listed.get(table, 0), table
        assert truth["raw_rows"] == modeled + duplicate + listed.get(table, 0), table
        assert raw_rows == truth["raw_rows"], table


def test_quarantine_counts_by_reason(views, demo_warehouse):
    built: dict[str, dict[str, int]] = {}
    for table, reason, rows in views(
        f"select source_table, reason, count(*) from {PRESENTATION}.quarantine group by all"
    ):
        built.setdefault(table, {})[reason] = rows
    expected = {
        table: nonzero(reasons)
        for table, reasons in demo_warehouse.manifest["quarantine_by_reason"].items()
        if nonzero(reasons)
    }
    assert built == expected


def test_quarantine_keeps_the_raw_record(views):
    for table, raw_record in views(
        f"select source_table, raw_record from {PRESENTATION}.quarantine"
    ):
        assert raw_record and "PAYLOAD" in raw_record, table


def test_feature_events_are_the_deduplicated_feature_events(views, demo_warehouse):
    ((events,),) = views(f"select sum(events) from {PRESENTATION}.usage_user_daily")
    assert events == demo_warehouse.manifest["feature_events"]
    ((weekly,),) = views(f"select sum(events) from {PRESENTATION}.org_feature_usage_weekly")
    assert weekly == events


def test_unpaid_events_by_reason(views, demo_warehouse):
    built = dict(
        views(f"select reason, count(*) from {PRESENTATION}.unpaid_usage_events group by all")
    )
    assert built == nonzero(demo_warehouse.manifest["unpaid_events_by_reason"])
    weekly = dict(
        views(f"select reason, sum(events) from {PRESENTATION}.unpaid_usage_weekly group by all")
    )
    assert weekly == built


def test_unpaid_reasons_view_words_every_reason_in_precedence_order(views, demo_warehouse):
    """The reasons every page reads are the generator's (METRICS.md order), each worded."""
    rows = views(
        f"select reason, label, explanation, colour from {PRESENTATION}.unpaid_reasons "
        f"order by display_order"
    )
    assert [row[0] for row in rows] == list(demo_warehouse.manifest["unpaid_events_by_reason"])
    assert len({row[1] for row in rows}) == len(rows)
    assert all(label and explanation for _, label, explanation, _ in rows)
    assert len({colour for *_, colour in rows}) == len(rows)

def test_entitlement_changes_by_type(views, demo_warehouse):
    built = dict(views(
        f"select change_type, count(*) from {PRESENTATION}.feature_entitlement_changes group by all"
    ))  # fmt: skip
    assert built == nonzero(demo_warehouse.manifest["entitlement_changes_by_type"])


def test_cancellation_confirmations(views, demo_warehouse):
    built = dict(views(
        f"select case when is_confirmed then 'confirmed' when not is_confirmed then 'reversed' "
        f"else 'provisional' end, count(*) "
        f"from {PRESENTATION}.feature_entitlement_changes where change_type = 'cancellation' "
        f"group by all"
    ))  # fmt: skip
    assert built == nonzero(demo_warehouse.manifest["cancellations_by_confirmation"])
    by_status = dict(views(
        f"select cancellation_status, count(*) from {PRESENTATION}.feature_entitlement_changes "
        f"where change_type = 'cancellation' group by all"
    ))  # fmt: skip
    assert by_status == built
    other = views(
        f"select count(*) from {PRESENTATION}.feature_entitlement_changes "
        f"where change_type <> 'cancellation' "
        f"and (is_confirmed is not null or cancellation_status is not null)"
    )
    assert other == [(0,)]


def test_latest_complete_date(views, demo_warehouse):
    expected = dt.date.fromisoformat(demo_warehouse.manifest["latest_complete_date"])
    assert views(f"select as_of_date from {PRESENTATION}.latest_complete_date") == [(expected,)]


def test_organisations_with_feature_rows(views, demo_warehouse):
    ((count,),) = views(f"select count(*) from {PRESENTATION}.organisations")
    assert count == demo_warehouse.manifest["organisations_with_feature_rows"]
    unnamed = views(
        f"select organisation_id, organisation_name from {PRESENTATION}.organisations "
        f"where organisation_name is null"
    )
    assert unnamed == []


def test_paying_never_using_appear_with_zero_events(views, demo_warehouse):
    paying_never_using = demo_warehouse.manifest["paying_never_using"]
    assert paying_never_using
    for expected in paying_never_using:
        rows = views(
            f"select count(*), sum(events), sum(days_enabled) "
            f"from {PRESENTATION}.org_feature_usage_weekly "
            f"where organisation_id = ? and feature = ?",
            [expected["organisation_id"], expected["feature"]],
        )
        weeks, events, days_enabled = rows[0]
        assert weeks > 0, expected
        assert events == 0, expected
        assert days_enabled > 0, expected
