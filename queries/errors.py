"""How a warehouse fails, in words a user can read, and how a stale answer is marked.

The rule of this module: every failure the query layer lets out is a `WarehouseError`
whose `str()` is a sentence fit for the page and whose `kind` (a key of FAILURE_KINDS)
decides what the runner does with it: retry it, serve a "last good" copy instead, or
start the outage cool-down. Facts attached to an error are safe to log (exception
class, errno, SQLSTATE), never an error message, which can quote a parameter value.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

STALE_ATTR = "stale"


@dataclass(frozen=True)
class FailureKind:
    """How the runner treats one kind of warehouse failure."""

    name: str
    transient: bool  # retried with back-off
    serves_stale: bool  # a "last good" copy may stand in for the answer
    reason: str  # the short phrase a stale notice shows


FAILURE_KINDS = {
    kind.name: kind
    for kind in (
        FailureKind("timeout", True, True, "the warehouse is taking too long to answer"),
        FailureKind("unreachable", True, True, "the warehouse is not answering"),
        FailureKind("busy", True, True, "the warehouse is being rebuilt"),
        FailureKind("not_built", False, True, "the warehouse file is missing"),
        FailureKind("auth", False, True, "the warehouse refused the dashboard's sign-in"),
        FailureKind("config", False, False, "the warehouse connection is not set up"),
        FailureKind("missing_view", False, False, "the warehouse lacks a view this page needs"),
        FailureKind("query_failed", False, False, "the warehouse could not answer this question"),
    )
}
# Kinds that say the warehouse as a whole is out of reach (not just this query).
OUTAGE_KINDS = ("unreachable", "auth")


class WarehouseError(Exception):
    """The warehouse could not answer. `str(err)` is a sentence fit for the page.

    `kind` is a key of FAILURE_KINDS; `facts` are safe to log (exception class, errno,
    SQLSTATE): never an error message, which can quote a parameter value."""

    def __init__(self, message: str, kind: str = "query_failed", **facts: Any):
        super().__init__(message)
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}")
        self.kind = kind
        self.facts = facts

    @property
    def transient(self) -> bool:
        return FAILURE_KINDS[self.kind].transient and not self.facts.get("circuit")

    @property
    def serves_stale(self) -> bool:
        return FAILURE_KINDS[self.kind].serves_stale

    @property
    def reason(self) -> str:
        return FAILURE_KINDS[self.kind].reason


def cause_facts(exc: BaseException) -> dict[str, Any]:
    """Loggable facts of an exception: its class, and errno/SQLSTATE when it has them."""
    facts: dict[str, Any] = {"cause": type(exc).__name__}
    errno = getattr(exc, "errno", None)
    if isinstance(errno, int) and errno != -1:
        facts["errno"] = errno
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and re.fullmatch(r"[0-9A-Z]{5}", sqlstate):
        facts["sqlstate"] = sqlstate
    return facts


@dataclass(frozen=True)
class Staleness:
    """A result served from its "last good" copy because the warehouse failed."""

    fetched_at: float  # epoch seconds at which the copy was read from the warehouse
    reason: str  # short phrase: "the warehouse is not answering"
    message: str  # the failure's full sentence (str of the WarehouseError)
    kind: str

    @property
    def age_seconds(self) -> float:
        return max(0.0, time.time() - self.fetched_at)

    @property
    def stale_since(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.fetched_at, tz=dt.UTC)


def oldest(found: list[Staleness]) -> Staleness | None:
    """The Staleness with the oldest copy among `found` (None when empty)."""
    return min(found, key=lambda s: s.fetched_at) if found else None


def staleness_of(*frames: pd.DataFrame) -> Staleness | None:
    """The oldest Staleness among `frames` (None when every one is fresh)."""
    found = [f.attrs.get(STALE_ATTR) for f in frames if isinstance(f, pd.DataFrame)]
    return oldest([s for s in found if isinstance(s, Staleness)])
