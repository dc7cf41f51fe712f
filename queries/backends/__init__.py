"""The warehouses the runner can talk to, behind one small protocol.

A backend knows how to reach one warehouse and how to turn its failures into
`WarehouseError`s (queries/errors.py); it knows nothing of caching, retries or which
question is asked. The runner (queries/runner.py) needs only this of it.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from config import Settings
from queries.sqlfile import QueryRef


@runtime_checkable
class Backend(Protocol):
    name: str  # "duckdb" or "snowflake": in logs and the readiness probe
    presentation: str  # the quoted presentation schema that replaces `{presentation}`

    def identity(self) -> str:
        """The warehouse's current build: changes whenever the warehouse is rebuilt.
        Raises WarehouseError."""
        ...

    def execute(self, sql: str, params: list[Any], question: str) -> tuple[list[str], list[tuple]]:
        """(column names, rows) of `sql` with `params` bound, asked for `question`.
        Raises WarehouseError."""
        ...


def make_backend(settings: Settings, identity_query: QueryRef) -> Backend:
    """The backend for `settings.warehouse`. `identity_query` names the statement whose
    answer identifies a build where the warehouse cannot say so itself (Snowflake)."""
    if settings.warehouse == "duckdb":
        from queries.backends.duckdb import DuckDBBackend

        return DuckDBBackend(settings)
    from queries.backends.snowflake import SnowflakeBackend

    return SnowflakeBackend(settings, identity_query)
