"""After `build --target snowflake`: every personal column is masked, or the build fails.

The module's rule: masking is checked where it takes effect, in Snowflake's own record of
attached policies (INFORMATION_SCHEMA.POLICY_REFERENCES), never assumed from the build
having run. Two kinds of column must carry a masking policy:

- every column listed in the dbt var `masked_columns` (warehouse/dbt_project.yml), with
  the policy named there (and its USING columns): the models' post-hooks attach these;
- every column of a "04_PRESENTATION" view, which the reader role can select, whose name
  says it may hold a name, an e-mail address or a raw record (PERSONAL_COLUMN), even
  one nobody listed.

`unmasked_columns` is the decision (pure, tested with stub query results);
`verify_snowflake_masking` fetches what it needs and raises WarehouseError naming each
unmasked column.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from warehouse.staging import WarehouseError

READER_SCHEMA = "04_PRESENTATION"
# Column names that may hold a user's name, e-mail address or a raw (USER) record.
PERSONAL_COLUMN = re.compile(
    r"(^|_)(E_?MAIL|FIRST_?NAME|LAST_?NAME|SURNAME|FULL_?NAME|USER_?NAME"
    r"|RAW_RECORD|PAYLOAD(_TEXT)?|CSV_LINE)($|_)",
    re.IGNORECASE,
)
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class MaskedColumn:
    """A column that must carry `policy` (USING `using`, when given)."""

    schema: str
    relation: str
    column: str
    policy: str
    using: tuple[str, ...] = ()

    def key(self) -> tuple[str, str, str]:
        return (self.schema.upper(), self.relation.upper(), self.column.upper())

    def __str__(self) -> str:
        return f'"{self.schema}".{self.relation}.{self.column}'.upper()


def masked_columns_config(project_dir: Path) -> dict[str, list[dict]]:
    """The dbt var `masked_columns`: model name -> [{column, policy, using?}]."""
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    return project.get("vars", {}).get("masked_columns", {}) or {}


def required_masks(
    config: Mapping[str, Sequence[Mapping[str, Any]]], manifest: Mapping[str, Any]
) -> list[MaskedColumn]:
    """The listed columns, each located (schema, relation) through dbt's manifest.

    Raises WarehouseError for a listed model the manifest does not know.
    """
    models = {
        node["name"]: node
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
    }
    required = []
    for model_name, columns in config.items():
        if model_name not in models:
            raise WarehouseError(
                f"masked_columns names model {model_name}, which dbt did not build"
            )
        node = models[model_name]
        relation = node.get("alias") or node["name"]
        for item in columns:
            using = tuple(item.get("using") or ())
            required.append(
                MaskedColumn(node["schema"], relation, item["column"], item["policy"], using)
            )
    return required


def _argument_columns(value: Any) -> tuple[str, ...]:
    """REF_ARG_COLUMN_NAMES: a JSON array of names as text (or already a list), or null."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = [part.strip(' "') for part in value.strip("[]").split(",")]
    return tuple(str(name).upper() for name in value if str(name).strip())


def unmasked_columns(
    required: Iterable[MaskedColumn],
    reader_columns: Iterable[tuple[str, str, str]],
    references: Iterable[Mapping[str, Any]],
) -> list[str]:
    """One line per personal column without its masking policy; empty when all are masked.

    `reader_columns`: (schema, relation, column) of the relations the reader role can
    select. `references`: POLICY_REFERENCES rows (upper-case column names as keys).
    """
    attached: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for ref in references:
        if str(ref.get("POLICY_KIND") or "MASKING_POLICY").upper() != "MASKING_POLICY":
            continue
        if str(ref.get("POLICY_STATUS") or "ACTIVE").upper() != "ACTIVE":
            continue
        key = (
            str(ref["REF_SCHEMA_NAME"]).upper(),
            str(ref["REF_ENTITY_NAME"]).upper(),
            str(ref["REF_COLUMN_NAME"]).upper(),
        )
        attached.setdefault(key, []).append(ref)

    problems = []
    required = list(required)
    for mask in required:
        found = attached.get(mask.key(), [])
        if not found:
            problems.append(f"{mask}: no masking policy (expected {mask.policy})")
            continue
        wanted_args = tuple(column.upper() for column in mask.using[1:])
        if not any(
            str(ref["POLICY_NAME"]).upper() == mask.policy.upper()
            and _argument_columns(ref.get("REF_ARG_COLUMN_NAMES")) == wanted_args
            for ref in found
        ):
            names = ", ".join(sorted({str(ref["POLICY_NAME"]) for ref in found}))
            using = f" using ({', '.join(mask.using)})" if mask.using else ""
            problems.append(f"{mask}: has {names}, expected {mask.policy}{using}")
    listed = {mask.key() for mask in required}
    for schema, relation, column in sorted(set(reader_columns)):
        key = (schema.upper(), relation.upper(), column.upper())
        if key in listed or not PERSONAL_COLUMN.search(column):
            continue
        if not attached.get(key):
            problems.append(
                f'"{key[0]}".{key[1]}.{key[2]}: readable by the reader role, named like '
                "personal data, and has no masking policy (add it to var masked_columns)"
            )
    return problems


def _quoted_database(database: str) -> str:
    if not IDENTIFIER.match(database):
        raise WarehouseError(f"unexpected Snowflake database name {database!r}")
    return database.upper()


def fetch_reader_columns(cursor, database: str) -> list[tuple[str, str, str]]:
    """(schema, relation, column) of every column in the reader role's schema."""
    cursor.execute(
        f"select table_schema, table_name, column_name from {_quoted_database(database)}"
        ".information_schema.columns where table_schema = ?",
        [READER_SCHEMA],
    )
    return [tuple(row) for row in cursor.fetchall()]


def fetch_policy_references(
    cursor, database: str, relations: Iterable[tuple[str, str]]
) -> list[dict[str, Any]]:
    """POLICY_REFERENCES rows of each (schema, relation), upper-case keys."""
    rows = []
    db = _quoted_database(database)
    for schema, relation in sorted(set(relations)):
        cursor.execute(
            f"select * from table({db}.information_schema.policy_references("
            "ref_entity_name => ?, ref_entity_domain => 'table'))",
            [f'{db}."{schema.upper()}".{relation.upper()}'],
        )
        names = [column[0].upper() for column in cursor.description]
        rows += [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return rows


def connect_from_environment():
    """A Snowflake connection as dbt's profile makes it (same environment variables)."""
    import snowflake.connector

    settings: dict[str, Any] = {
        "account": os.environ.get("SNOWFLAKE_ACCOUNT", ""),
        "user": os.environ.get("SNOWFLAKE_USER", ""),
        "role": os.environ.get("SNOWFLAKE_ROLE", "ACCURX_TRANSFORMER"),
        "warehouse": os.environ.get("SNOWFLAKE_WAREHOUSE", "ACCURX_TRANSFORM_WH"),
        "database": os.environ.get("SNOWFLAKE_DATABASE", "ACCURX"),
        "paramstyle": "qmark",
        "login_timeout": 60,
        "network_timeout": 120,
    }
    if os.environ.get("SNOWFLAKE_PRIVATE_KEY_PATH"):
        settings["authenticator"] = "SNOWFLAKE_JWT"
        settings["private_key_file"] = os.environ["SNOWFLAKE_PRIVATE_KEY_PATH"]
        if os.environ.get("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"):
            settings["private_key_file_pwd"] = os.environ["SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"]
    if os.environ.get("SNOWFLAKE_HOST"):
        settings["host"] = os.environ["SNOWFLAKE_HOST"]
        settings["port"] = int(os.environ.get("SNOWFLAKE_PORT", "443"))
        settings["protocol"] = os.environ.get("SNOWFLAKE_PROTOCOL", "https")
    return snowflake.connector.connect(**settings)


def verify_snowflake_masking(project_dir: Path, manifest_path: Path, connection=None) -> int:
    """Check the built Snowflake warehouse; return how many columns were checked.

    Raises WarehouseError naming every personal column left unmasked.
    """
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise WarehouseError(f"cannot read dbt's manifest {manifest_path}: {exc}") from exc
    required = required_masks(masked_columns_config(project_dir), manifest)
    database = os.environ.get("SNOWFLAKE_DATABASE", "ACCURX")
    own_connection = connection is None
    if own_connection:
        connection = connect_from_environment()
    try:
        cursor = connection.cursor()
        reader_columns = fetch_reader_columns(cursor, database)
        relations = {(mask.schema, mask.relation) for mask in required}
        relations |= {
            (schema, relation)
            for schema, relation, column in reader_columns
            if PERSONAL_COLUMN.search(column)
        }
        references = fetch_policy_references(cursor, database, relations)
    finally:
        if own_connection:
            connection.close()
    problems = unmasked_columns(required, reader_columns, references)
    if problems:
        raise WarehouseError(
            "personal columns are not masked in Snowflake (the build is live; fix and rerun):\n"
            + "\n".join(f"  {line}" for line in problems)
        )
    return len(required)
