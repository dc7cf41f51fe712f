"""The churn-risk back-test finds the demo generator's planted signal, and only that.

Two demo-scale warehouses (a year of data: the back-test needs 13 weeks before its
first date and 119 days after its last), built through the public command line: the
session's `demo_scale_warehouse`, whose generator planted falling usage before most
cancellations (the default), and one of this module without it (`--no-churn-signal`),
built with `--select +churn_risk_backtest` (the back-test and what it reads, without
the forecasts it does not need). With the link the pooled back-test must rank the
coming cancellations well; without it the generator cancels every enabled pair at the
same daily rate, whatever its usage, so the score has nothing honest to find and a 95%
bootstrap interval of its pooled AUC must contain 0.5 (a higher AUC there would mean
the score reads data from after its as-of date). The bootstrap and the AUC cross-check
are computed here with numpy from the pair-level model, not read from the view.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pytest

from tests.conftest import TEST_SEED, run_cli

pytestmark = pytest.mark.slow

PRESENTATION = '"04_PRESENTATION"'
MODEL = '"03_MODEL"'
BOOTSTRAP_SAMPLES = 2000


def read(db_path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def with_signal(demo_scale_warehouse) -> Path:
    return demo_scale_warehouse.db_path


@pytest.fixture(scope="module")
def without_signal(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("no-churn-signal")
    raw_dir, db_path = root / "raw", root / "accurx.duckdb"
    run_cli("demo", "--out", str(raw_dir), "--scale", "demo", "--seed", str(TEST_SEED),
            "--no-churn-signal")
    run_cli("load", str(raw_dir), "--db", str(db_path))
    run_cli("build", "--db", str(db_path), "--select", "+churn_risk_backtest")
    return db_path


def pooled_row(db_path: Path) -> dict:
    rows = read(db_path, f"select pairs, cancellations, base_rate, auc, auc_lower_95, "
                         f"auc_upper_95, precision_at_20 from {PRESENTATION}.churn_risk_backtest "
                         f"where as_of_date is null")
    assert len(rows) == 1
    names = ("pairs", "cancellations", "base_rate", "auc", "auc_lower_95", "auc_upper_95",
             "precision_at_20")
    return dict(zip(names, rows[0]))


def scored_pairs(db_path: Path) -> tuple[np.ndarray, np.ndarray]:
    rows = read(db_path, f"select risk_score, is_positive from {MODEL}.fct_churn_risk_backtest_pairs")
    scores = np.array([r[0] for r in rows], dtype=float)
    positive = np.array([r[1] for r in rows], dtype=bool)
    return scores, positive


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Mann-Whitney: P(random positive outscores random negative), ties half."""
    pos, neg = scores[positive], np.sort(scores[~positive])
    below = np.searchsorted(neg, pos, side="left")
    tied = np.searchsorted(neg, pos, side="right") - below
    return float((below + 0.5 * tied).sum() / (len(pos) * len(neg)))


def delong_interval(scores: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    pos, neg = scores[positive], scores[~positive]
    pos_sorted, neg_sorted = np.sort(pos), np.sort(neg)
    v10 = (np.searchsorted(neg_sorted, pos, "left")
           + 0.5 * (np.searchsorted(neg_sorted, pos, "right") - np.searchsorted(neg_sorted, pos, "left"))
           ) / len(neg)
    v01 = (len(pos) - np.searchsorted(pos_sorted, neg, "right")
           + 0.5 * (np.searchsorted(pos_sorted, neg, "right") - np.searchsorted(pos_sorted, neg, "left"))
           ) / len(pos)
    centre = v10.mean()
    se = np.sqrt(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg))
    return max(0.0, centre - 1.959964 * se), min(1.0, centre + 1.959964 * se)


def bootstrap_interval(scores: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    """95% percentile interval of the AUC over pairs resampled with replacement."""
    rng = np.random.default_rng(20261203)
    aucs = []
    for _ in range(BOOTSTRAP_SAMPLES):
        pick = rng.integers(0, len(scores), len(scores))
        if positive[pick].any() and not positive[pick].all():
            aucs.append(auc(scores[pick], positive[pick]))
    low, high = np.percentile(aucs, [2.5, 97.5])
    return float(low), float(high)


def test_with_the_planted_signal_the_backtest_ranks_coming_cancellations(with_signal):
    pooled = pooled_row(with_signal)
    assert pooled["cancellations"] >= 50
    assert pooled["auc"] >= 0.70
    assert pooled["precision_at_20"] >= 2 * pooled["base_rate"]


def test_without_the_signal_the_pooled_auc_is_indistinguishable_from_chance(without_signal):
    scores, positive = scored_pairs(without_signal)
    assert positive.sum() >= 50
    low, high = bootstrap_interval(scores, positive)
    assert low <= 0.5 <= high


def test_backtest_view_agrees_with_its_pairs(with_signal):
    """The SQL AUC, DeLong interval and base rate equal numpy's over the pair model."""
    scores, positive = scored_pairs(with_signal)
    pooled = pooled_row(with_signal)
    assert pooled["pairs"] == len(scores) and pooled["cancellations"] == positive.sum()
    assert pooled["base_rate"] == pytest.approx(positive.mean())
    assert pooled["auc"] == pytest.approx(auc(scores, positive))
    low, high = delong_interval(scores, positive)
    assert (pooled["auc_lower_95"], pooled["auc_upper_95"]) == pytest.approx((low, high))


def test_backtest_dates_follow_the_contract(with_signal):
    dates = [d for (d,) in read(with_signal, f"select as_of_date from {PRESENTATION}.churn_risk_backtest "
                                             f"where as_of_date is not null order by 1")]
    first_export, last_export = read(
        with_signal, f"select min(date), max(date) from {PRESENTATION}.org_feature_daily")[0]
    first_monday = first_export + dt.timedelta(days=-first_export.weekday() % 7)
    expected, day = [], first_monday + dt.timedelta(weeks=13, days=-1)
    while day + dt.timedelta(days=119) <= last_export:
        expected.append(day)
        day += dt.timedelta(days=28)
    assert dates == expected and len(dates) >= 4


def test_planted_cancellations_are_the_ones_flagged(with_signal, demo_scale_warehouse):
    """The positives the score ranks highest are mostly the planted ones (a check that the
    score reads the planted decline, not something else)."""
    manifest = demo_scale_warehouse.manifest
    planted = {(p["organisation_id"], p["feature"]) for p in manifest["churn_signal"]["planted"]}
    rows = read(with_signal, f"select organisation_id, feature, risk_score from "
                             f"{MODEL}.fct_churn_risk_backtest_pairs where is_positive")
    scores = np.array([r[2] for r in rows], dtype=float)
    is_planted = np.array([(r[0], r[1]) in planted for r in rows])
    assert is_planted.any() and (~is_planted).any()
    assert scores[is_planted].mean() > scores[~is_planted].mean()


def test_current_churn_risk_covers_pairs_enabled_on_the_latest_complete_date(with_signal):
    missing = read(with_signal, f"""
        select count(*) from {PRESENTATION}.org_feature_daily as d
        cross join {PRESENTATION}.latest_complete_date as l
        where d.date = l.as_of_date and d.is_enabled
            and d.feature in ('SMS', 'Video', 'Self Book Individual')
            and not exists (select 1 from {PRESENTATION}.churn_risk as r
                            where r.organisation_id = d.organisation_id and r.feature = d.feature)
    """)
    assert missing == [(0,)]
    worded = read(with_signal, f"select count(*), count(reasons) from {PRESENTATION}.churn_risk "
                               f"where risk_score > 0")
    assert worded[0][0] > 0 and worded[0][0] == worded[0][1]
