"""warehouse.masking: the snowflake build fails when a personal column is unmasked.

fakesnow has no masking policies, so the decision is tested with stub POLICY_REFERENCES
results shaped as Snowflake documents them, and the whole check with a stub connection.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from warehouse.masking import (
    MaskedColumn,
    masked_columns_config,
    required_masks,
    unmasked_columns,
    verify_snowflake_masking,
)
from warehouse.staging import WarehouseError

PROJECT_DIR = Path(__file__).resolve().parents[2] / "warehouse"
QUARANTINE = MaskedColumn(
    "04_PRESENTATION", "QUARANTINE", "RAW_RECORD", "PII_RAW_RECORD_MASK",
    ("RAW_RECORD", "SOURCE_TABLE"),
)  # fmt: skip
STAGED_PAYLOAD = MaskedColumn("02_CLEAN", "STG_RAW__USER_EXPORTS", "PAYLOAD_TEXT", "PII_TEXT_MASK")
READER_COLUMNS = [
    ("04_PRESENTATION", "QUARANTINE", "SOURCE_TABLE"),
    ("04_PRESENTATION", "QUARANTINE", "RAW_RECORD"),
    ("04_PRESENTATION", "ORGANISATIONS", "ORGANISATION_NAME"),
]


def reference(schema, entity, column, policy, args=None, **extra) -> dict:
    """A POLICY_REFERENCES row (the columns the check reads)."""
    return {
        "POLICY_DB": "ACCURX", "POLICY_SCHEMA": "GOVERNANCE", "POLICY_NAME": policy,
        "POLICY_KIND": "MASKING_POLICY", "REF_DATABASE_NAME": "ACCURX",
        "REF_SCHEMA_NAME": schema, "REF_ENTITY_NAME": entity, "REF_ENTITY_DOMAIN": "TABLE",
        "REF_COLUMN_NAME": column, "REF_ARG_COLUMN_NAMES": args, "POLICY_STATUS": "ACTIVE",
        **extra,
    }  # fmt: skip


ALL_MASKED = [
    reference("04_PRESENTATION", "QUARANTINE", "RAW_RECORD", "PII_RAW_RECORD_MASK", '[ "SOURCE_TABLE" ]'),
    reference("02_CLEAN", "STG_RAW__USER_EXPORTS", "PAYLOAD_TEXT", "PII_TEXT_MASK"),
]  # fmt: skip


def test_all_masked_passes():
    assert unmasked_columns([QUARANTINE, STAGED_PAYLOAD], READER_COLUMNS, ALL_MASKED) == []


def test_a_dropped_policy_is_reported():
    """What a build without the post-hook leaves: the replaced view has no policy."""
    problems = unmasked_columns([QUARANTINE, STAGED_PAYLOAD], READER_COLUMNS, ALL_MASKED[1:])
    assert problems == [
        '"04_PRESENTATION".QUARANTINE.RAW_RECORD: no masking policy (expected PII_RAW_RECORD_MASK)'
    ]


@pytest.mark.parametrize(
    "wrong",
    [
        {"POLICY_NAME": "SOME_OTHER_MASK"},
        {"REF_ARG_COLUMN_NAMES": None},  # unconditional policy: not the one listed
        {"REF_ARG_COLUMN_NAMES": '["REASON"]'},
        {"POLICY_STATUS": "MULTIPLE_MASKING_POLICY_ASSIGNED_TO_THE_COLUMN"},
        {"POLICY_KIND": "ROW_ACCESS_POLICY"},
    ],
)
def test_the_wrong_policy_counts_as_unmasked(wrong):
    references = [{**ALL_MASKED[0], **wrong}, ALL_MASKED[1]]
    problems = unmasked_columns([QUARANTINE, STAGED_PAYLOAD], READER_COLUMNS, references)
    assert len(problems) == 1 and problems[0].startswith('"04_PRESENTATION".QUARANTINE.RAW_RECORD')


def test_an_unlisted_personal_column_the_reader_can_read_is_reported():
    reader_columns = [*READER_COLUMNS, ("04_PRESENTATION", "USERS", "EMAIL")]
    problems = unmasked_columns([QUARANTINE, STAGED_PAYLOAD], reader_columns, ALL_MASKED)
    assert len(problems) == 1
    assert problems[0].startswith('"04_PRESENTATION".USERS.EMAIL: readable by the reader role')
    masked = [*ALL_MASKED, reference("04_PRESENTATION", "USERS", "EMAIL", "PII_TEXT_MASK")]
    assert unmasked_columns([QUARANTINE, STAGED_PAYLOAD], reader_columns, masked) == []


def test_required_masks_come_from_the_project_list_located_by_the_manifest():
    config = masked_columns_config(PROJECT_DIR)
    assert config["quarantine"] == [
        {"column": "RAW_RECORD", "policy": "PII_RAW_RECORD_MASK", "using": ["RAW_RECORD", "SOURCE_TABLE"]}
    ]  # fmt: skip
    manifest = {
        "nodes": {
            f"model.accurx.{name}": {
                "resource_type": "model",
                "name": name,
                "alias": name,
                "schema": schema,
            }
            for name, schema in [
                ("stg_raw__user_exports", "02_CLEAN"),
                ("stg_raw__load_rejects", "02_CLEAN"),
                ("int_user_exports__classified", "03_MODEL"),
                ("fct_quarantine", "03_MODEL"),
                ("quarantine", "04_PRESENTATION"),
            ]
        }
    }
    required = required_masks(config, manifest)
    assert QUARANTINE in [
        MaskedColumn(m.schema, m.relation.upper(), m.column, m.policy, m.using) for m in required
    ]
    del manifest["nodes"]["model.accurx.quarantine"]
    with pytest.raises(WarehouseError, match="quarantine"):
        required_masks(config, manifest)


class StubCursor:
    """Answers the check's two queries the way Snowflake would, recording them."""

    def __init__(self, references: list[dict]):
        self.references = references
        self.executed: list[tuple[str, list]] = []
        self.description = None
        self._rows: list[tuple] = []

    def execute(self, sql: str, params: list) -> None:
        self.executed.append((sql, params))
        if "information_schema.columns" in sql:
            self._rows = [(*column,) for column in READER_COLUMNS]
            return
        (entity,) = params
        names = list(self.references[0]) if self.references else ["POLICY_NAME"]
        self.description = [(name,) for name in names]
        self._rows = [
            tuple(ref[name] for name in names)
            for ref in self.references
            if entity == f'ACCURX."{ref["REF_SCHEMA_NAME"]}".{ref["REF_ENTITY_NAME"]}'
        ]

    def fetchall(self) -> list[tuple]:
        return self._rows


class StubConnection:
    def __init__(self, cursor: StubCursor):
        self._cursor = cursor

    def cursor(self) -> StubCursor:
        return self._cursor


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    config = masked_columns_config(PROJECT_DIR)
    layers = {"stg": "02_CLEAN", "int": "03_MODEL", "fct": "03_MODEL"}
    nodes = {
        f"model.accurx.{name}": {
            "resource_type": "model",
            "name": name,
            "alias": name,
            "schema": layers.get(name.split("_")[0], "04_PRESENTATION"),
        }
        for name in config
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": nodes}))
    return path


def listed_references() -> list[dict]:
    layers = {"stg": "02_CLEAN", "int": "03_MODEL", "fct": "03_MODEL"}
    references = []
    for name, columns in masked_columns_config(PROJECT_DIR).items():
        for item in columns:
            args = json.dumps(item.get("using", [])[1:]) if item.get("using") else None
            schema = layers.get(name.split("_")[0], "04_PRESENTATION")
            references.append(reference(schema, name.upper(), item["column"], item["policy"], args))
    return references


def test_verification_passes_when_snowflake_reports_every_policy(manifest_path: Path):
    cursor = StubCursor(listed_references())
    checked = verify_snowflake_masking(PROJECT_DIR, manifest_path, StubConnection(cursor))
    assert checked == len(listed_references())
    # Every value is bound: the relation names travel as parameters, not as SQL text.
    for sql, params in cursor.executed:
        assert params and all(str(p) not in sql for p in params)


def test_verification_fails_the_build_when_a_policy_is_missing(manifest_path: Path):
    references = [r for r in listed_references() if r["REF_ENTITY_NAME"] != "QUARANTINE"]
    with pytest.raises(WarehouseError, match=r'"04_PRESENTATION"\.QUARANTINE\.RAW_RECORD'):
        verify_snowflake_masking(PROJECT_DIR, manifest_path, StubConnection(StubCursor(references)))
