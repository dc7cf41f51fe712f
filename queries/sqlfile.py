"""The `.sql` files of queries/: named statements, the `{presentation}` placeholder, bound values.

Rules for every query module (`queries/<question>.py` + `queries/<question>.sql`):

1. All SQL lives in `queries/<question>.sql` as named statements::

       -- name: options_on_date
       -- grain: one row per (feature, selected_option) enabled on :as_of_date
       -- params: as_of_date (date)
       select feature, selected_option, org_count
       from {presentation}.feature_access_daily
       where date = :as_of_date

   The `-- name:` line starts a statement; the comment lines right after it must
   state the grain and the parameters (the loader refuses a statement without a
   `-- grain:` line). A trailing `;` is optional.
2. The only placeholder is `{presentation}`: the configured, quoted presentation
   schema (`"04_PRESENTATION"` on DuckDB, `ACCURX."04_PRESENTATION"` on Snowflake).
   View and column names are written in the SQL, never taken from input. Read only
   the 04_PRESENTATION views listed in METRICS.md section 3, with explicit columns.
3. Every value is a bound parameter: `:name` (translated here to positional `?`, so
   the text sent is byte-identical for identical requests, which lets Snowflake answer
   a repeated query from its result cache) or plain `?` with a sequence. Pass
   `datetime.date` for dates, not strings. No string formatting.
4. `queries/<question>.py` exposes one small, typed function per statement that calls
   `run_query("<question>", "<name>", {...})` (queries/runner.py) and returns a pandas
   DataFrame, with a docstring saying what is returned and that it raises
   `WarehouseError`. Shaping for display belongs in components, not here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

QUERIES_DIR = Path(__file__).resolve().parent
PRESENTATION_TOKEN = "{presentation}"

_NAME_LINE = re.compile(r"^--\s*name:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
_PLAIN_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
Params = Mapping[str, Any] | Sequence[Any] | None


class QueryRef(NamedTuple):
    """Names one statement: `name` of queries/<question>.sql."""

    question: str
    name: str


@dataclass(frozen=True)
class Statement:
    """One named statement of a .sql file, with `{presentation}` still in its text."""

    question: str
    name: str
    sql: str
    param_names: tuple[str, ...]  # in order of appearance; empty for `?` statements
    positional: bool

    def for_schema(self, presentation: str) -> Statement:
        """This statement with `{presentation}` replaced by the (quoted) schema."""
        return replace(self, sql=self.sql.replace(PRESENTATION_TOKEN, presentation))


def _translate_named(sql: str) -> tuple[str, tuple[str, ...], bool]:
    """Replace `:name` by `?` outside quotes and comments; keep `::` casts.

    Returns (sql, names in order, whether the statement uses plain `?`)."""
    out: list[str] = []
    names: list[str] = []
    positional = False
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            end = sql.find(ch, i + 1)
            while end != -1 and end + 1 < n and sql[end + 1] == ch:
                end = sql.find(ch, end + 2)
            end = n - 1 if end == -1 else end
            out.append(sql[i : end + 1])
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end == -1 else end
            out.append(sql[i:end])
            i = end
        elif ch == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
        elif ch == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", sql[i + 1 :])
            names.append(match.group(0))
            out.append("?")
            i += 1 + len(match.group(0))
        else:
            if ch == "?":
                positional = True
            out.append(ch)
            i += 1
    if names and positional:
        raise ValueError("a statement uses both :name and ? parameters")
    return "".join(out), tuple(names), positional


def parse_sql_file(question: str, text: str) -> dict[str, Statement]:
    """Split a .sql file into its named statements (see the module rules)."""
    statements: dict[str, Statement] = {}
    current: str | None = None
    lines: list[str] = []

    def flush() -> None:
        if current is None:
            return
        header = []
        body_start = 0
        for body_start, line in enumerate(lines):
            if line.strip().startswith("--") or not line.strip():
                header.append(line.strip())
                continue
            break
        else:
            body_start = len(lines)
        if not any(h.lower().startswith("-- grain:") or h.lower().startswith("--grain:") for h in header):
            raise ValueError(f"queries/{question}.sql: statement {current!r} has no '-- grain:' comment")
        body = "\n".join(lines[body_start:]).strip().rstrip(";").strip()
        if not body:
            raise ValueError(f"queries/{question}.sql: statement {current!r} is empty")
        if current in statements:
            raise ValueError(f"queries/{question}.sql: statement {current!r} defined twice")
        sql, names, positional = _translate_named(body)
        leftover = re.findall(r"\{[A-Za-z_]+\}", sql.replace(PRESENTATION_TOKEN, ""))
        if leftover:
            raise ValueError(f"queries/{question}.sql: {current!r} has unknown placeholders {leftover}")
        statements[current] = Statement(question, current, sql, names, positional)

    for line in text.splitlines():
        match = _NAME_LINE.match(line.strip())
        if match:
            flush()
            current, lines = match.group(1), []
        elif current is not None:
            lines.append(line)
    flush()
    return statements


@functools.cache
def load_statements(question: str) -> dict[str, Statement]:
    """The named statements of queries/<question>.sql (read once per process)."""
    if not re.fullmatch(r"[a-z_]+", question):
        raise ValueError(f"not a question name: {question!r}")
    return parse_sql_file(question, (QUERIES_DIR / f"{question}.sql").read_text(encoding="utf-8"))


def quote_identifier(name: str) -> str:
    """Quote an identifier unless it is a plain one (so ACCURX stays case-insensitive)."""
    if _PLAIN_IDENTIFIER.match(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def bind(statement: Statement, params: Params) -> list[Any]:
    """The positional values for `statement` from `params` (a mapping for `:name`
    statements, a sequence for `?` ones). Raises ValueError or TypeError on a mismatch."""
    if statement.positional or not statement.param_names:
        if isinstance(params, Mapping):
            if params and not statement.param_names:
                raise ValueError(f"{statement.name} takes no named parameters")
            return []
        return list(params or [])
    if not isinstance(params, Mapping):
        raise TypeError(f"{statement.name} takes named parameters {statement.param_names}")
    missing = [p for p in statement.param_names if p not in params]
    if missing:
        raise ValueError(f"{statement.name} is missing parameters {missing}")
    return [params[p] for p in statement.param_names]
