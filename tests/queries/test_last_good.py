"""The last good copies served during an outage have a budget of their own per worker
(queries/cache.py LastGoodCopies): a flood of one-off requests cannot push out a
result that people keep asking for, even when the shared cache loses everything."""

from __future__ import annotations

import os
import time

from runner_support import cached_runner

from queries.cache import LastGoodCopies
from queries.errors import staleness_of
from queries.runner import LAST_GOOD_MAX_ENTRIES


def test_one_off_copies_push_out_only_each_other():
    copies = LastGoodCopies(max_entries=3, max_age_seconds=60)
    copies.put("asked-often", "A")
    copies.put("asked-often", "A2")  # stored again when its cached result expired
    for n in range(10):
        assert copies.put(f"flood-{n}", n)
    assert len(copies) == 3
    assert copies.get("asked-often")[1] == "A2"
    assert copies.get("flood-9")[1] == 9 and copies.get("flood-8")[1] == 8
    assert copies.get("flood-0") is None  # the oldest one-off went first


def test_a_full_budget_of_repeated_copies_refuses_newcomers():
    copies = LastGoodCopies(max_entries=2, max_age_seconds=60)
    for key in ("a", "b"):
        copies.put(key, key)
        copies.put(key, key)
    assert not copies.put("flood", 1)
    assert copies.get("a") and copies.get("b") and copies.get("flood") is None


def test_expired_copies_are_neither_served_nor_kept(monkeypatch):
    copies = LastGoodCopies(max_entries=1, max_age_seconds=60)
    copies.put("old", 1)
    copies.put("old", 1)
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert copies.get("old") is None
    assert copies.put("new", 2) and copies.get("new")[1] == 2


def test_a_flood_cannot_take_the_copy_served_during_an_outage(warehouse):
    runner = cached_runner({"ACCURX_DUCKDB_PATH": str(warehouse)}, [])
    fresh = runner.run("organisations", "all_organisations")
    runner.cache.store.clear()  # its cached result expired: asked again, stored again
    runner.run("organisations", "all_organisations")
    for organisation_id in range(1000, 1000 + LAST_GOOD_MAX_ENTRIES + 50):  # one-off requests
        runner.run("organisations", "organisation_by_id", {"organisation_id": organisation_id})
    assert len(runner.last_good) == LAST_GOOD_MAX_ENTRIES
    runner.cache.store.clear()  # the shared cache lost everything (a store evicting under a flood)

    os.replace(warehouse, warehouse.with_suffix(".away"))
    stale = runner.run("organisations", "all_organisations")
    assert staleness_of(stale) is not None and stale.equals(fresh)
