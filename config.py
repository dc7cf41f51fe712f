"""Every setting of the dashboard, read from the environment in this one place.

With no environment at all the app serves the embedded demo: DuckDB at
`data/accurx.duckdb` (relative to the repository root), an in-process cache, no
sign-in. `load_settings(overrides)` is what the app factory calls; tests pass
overrides (keys are the environment variable names below) instead of editing
`os.environ`.

| variable | default | meaning |
|---|---|---|
| ACCURX_WAREHOUSE | duckdb | `duckdb` (embedded file) or `snowflake` |
| ACCURX_DUCKDB_PATH | data/accurx.duckdb | the DuckDB file; its stem is the catalog name |
| ACCURX_PRESENTATION_SCHEMA | 04_PRESENTATION | the only schema the app reads |
| ACCURX_STATEMENT_TIMEOUT_SECONDS | 30 | per-query limit (Snowflake STATEMENT_TIMEOUT_IN_SECONDS, DuckDB interrupt) |
| ACCURX_DUCKDB_KEEP_OPEN_SECONDS | 30 | DuckDB: the read-only connection stays open (saving its opening cost on every query) until it has been idle this long; a writer in place must wait for it (`load` and `build` never write in place). 0: close after every query |
| ACCURX_BUILD_CHECK_SECONDS | 60 | Snowflake: how often the build identity is re-read |
| ACCURX_QUERY_ATTEMPTS | 3 | tries of a query that failed for a transient reason (network, timeout, lock) |
| ACCURX_RETRY_BASE_SECONDS | 0.25 | first back-off pause; doubles per retry, jittered, at most 2 s |
| ACCURX_RETRY_BUDGET_SECONDS | 10 | no retry starts later than this after the first try (keeps a request under gunicorn's timeout) |
| ACCURX_STALE_MAX_AGE_SECONDS | 86400 | how long a "last good" copy of each result is kept to serve, marked stale, during an outage (0: never) |
| ACCURX_OUTAGE_COOLDOWN_SECONDS | 10 | after the warehouse was unreachable or refused the sign-in, a worker waits this long before trying it again (stale copies meanwhile); the same for a Redis that failed |
| ACCURX_OUTAGE_AFTER_TIMEOUTS | 3 | queries in a row that timed out before the warehouse counts as out (the cool-down above); 0: never |
| ACCURX_REQUEST_BUDGET_SECONDS | 30 | one deadline for all the queries of a request (tries, retries, waits); 0: none |
| ACCURX_REDIS_TIMEOUT_SECONDS | 0.5 | connect and read limit of every Redis call |
| CACHE_TYPE | SimpleCache (RedisCache when REDIS_URL is set) | flask-caching backend |
| REDIS_URL | unset | e.g. redis://localhost:6379/0, shared by all gunicorn workers |
| CACHE_DEFAULT_TIMEOUT | 3600 | seconds a query result is kept |
| SNOWFLAKE_CONNECTION_NAME | unset | a named connection from connections.toml (the connector's default location, or `$SNOWFLAKE_HOME/connections.toml`); the variables below override its values |
| SNOWFLAKE_ACCOUNT, _USER, _WAREHOUSE, _HOST, _PORT, _PROTOCOL, _AUTHENTICATOR | unset | connection values when no connection name is given (or to override it) |
| SNOWFLAKE_PRIVATE_KEY_FILE | unset | path of the key-pair private key (PKCS#8 PEM); implies authenticator SNOWFLAKE_JWT |
| SNOWFLAKE_PRIVATE_KEY_FILE_PWD | unset | passphrase of that key, if it is encrypted (environment only) |
| SNOWFLAKE_PASSWORD | unset | development only (e.g. a local fakesnow); the production user is a key-pair SERVICE user |
| SNOWFLAKE_ROLE | ACCURX_DASHBOARD_READER | the role every session uses (overrides connections.toml): read-only on the presentation views |
| ACCURX_DATABASE (or SNOWFLAKE_DATABASE) | ACCURX | Snowflake database (DuckDB: ignored, the catalog is the file stem) |
| ACCURX_SNOWFLAKE_POOL_SIZE | 8 | idle Snowflake sessions a worker keeps (per query tag, fewest-recently-used closed first) |
| ACCURX_SNOWFLAKE_IDLE_SECONDS | 900 | an idle session older than this is closed instead of reused |
| ACCURX_SNOWFLAKE_LOGIN_TIMEOUT_SECONDS | 10 | limit of one sign-in attempt |
| ACCURX_LOG_LEVEL | INFO | level of the app's own loggers |
| OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET | unset | sign-in on every route (read by serving/auth.py); unset = open demo on 127.0.0.1 |
| OIDC_ALLOWED_GROUPS, OIDC_GROUPS_CLAIM | unset, groups | optional group membership required to use the dashboard |
| SECRET_KEY | unset | session-cookie key, the same for every worker (required with sign-in) |
| ACCURX_PII_VIEWER_GROUPS | unset (nobody) | groups allowed to see real user ids (serving/personal_data.py) |
| ACCURX_READY_MAX_DATA_AGE_DAYS | unset | /readyz answers 503 when the data is older than this |
| ACCURX_PROXY_HOPS | 0 | reverse proxies whose X-Forwarded-* headers are trusted |

Passwords, private keys and their passphrases are read from the environment (or from
the connector's own connections.toml), never from files of this repository; they are
kept out of `repr()` and `describe()` and never logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent

WAREHOUSES = ("duckdb", "snowflake")

# snowflake.connector.connect keyword arguments read from SNOWFLAKE_<KEY> variables.
_SNOWFLAKE_KEYS = (
    "account", "user", "password", "warehouse", "authenticator",
    "private_key_file", "private_key_file_pwd", "host", "port", "protocol",
)
DASHBOARD_ROLE = "ACCURX_DASHBOARD_READER"


class ConfigError(ValueError):
    """A setting has a value the app cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    warehouse: str = "duckdb"
    duckdb_path: Path = REPO_ROOT / "data" / "accurx.duckdb"
    database: str = "ACCURX"
    presentation_schema: str = "04_PRESENTATION"
    statement_timeout_seconds: int = 30
    duckdb_keep_open_seconds: float = 30
    build_check_seconds: int = 60
    query_attempts: int = 3
    retry_base_seconds: float = 0.25
    retry_budget_seconds: float = 10
    stale_max_age_seconds: int = 86400
    outage_cooldown_seconds: float = 10
    outage_after_timeouts: int = 3
    request_budget_seconds: float = 30
    cache_redis_timeout_seconds: float = 0.5
    cache_type: str = "SimpleCache"
    cache_redis_url: str | None = field(default=None, repr=False)
    cache_default_timeout: int = 3600
    snowflake_connection_name: str | None = None
    snowflake_role: str = DASHBOARD_ROLE
    # Connection keyword arguments for snowflake.connector.connect (may hold a password
    # or a key passphrase).
    snowflake_params: Mapping[str, str] = field(default_factory=dict, repr=False)
    snowflake_pool_size: int = 8
    snowflake_idle_seconds: int = 900
    snowflake_login_timeout_seconds: int = 10
    log_level: str = "INFO"

    def flask_cache_config(self) -> dict[str, Any]:
        """The flask-caching configuration for these settings."""
        config: dict[str, Any] = {
            "CACHE_TYPE": self.cache_type,
            "CACHE_DEFAULT_TIMEOUT": self.cache_default_timeout,
            "CACHE_KEY_PREFIX": "accurx:q:",
        }
        if self.cache_type == "RedisCache":
            config["CACHE_REDIS_URL"] = self.cache_redis_url
            config["CACHE_OPTIONS"] = {"socket_timeout": self.cache_redis_timeout_seconds,
                                       "socket_connect_timeout": self.cache_redis_timeout_seconds}
        if self.cache_type == "SimpleCache":
            config["CACHE_THRESHOLD"] = 4000
        return config

    def describe(self) -> dict[str, Any]:
        """Facts safe to log or show (no secrets)."""
        facts: dict[str, Any] = {
            "warehouse": self.warehouse,
            "schema": self.presentation_schema,
            "cache": self.cache_type,
        }
        if self.warehouse == "duckdb":
            facts["duckdb_path"] = str(self.duckdb_path)
        else:
            facts["database"] = self.database
            facts["role"] = self.snowflake_role
            facts["connection"] = self.snowflake_connection_name or "environment"
            facts["auth"] = (
                "key pair" if self.snowflake_params.get("private_key_file")
                else "password" if self.snowflake_params.get("password")
                else self.snowflake_params.get("authenticator", "connections.toml")
            )
        return facts


def _int(env: Mapping[str, Any], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative")
    return value


def _seconds(env: Mapping[str, Any], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative")
    return value


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from `environ` (default `os.environ`) with `overrides` on top.

    Raises ConfigError for a value that cannot work (unknown warehouse, bad number).
    """
    env: dict[str, Any] = dict(os.environ if environ is None else environ)
    env.update(overrides or {})

    warehouse = str(env.get("ACCURX_WAREHOUSE") or "duckdb").strip().lower()
    if warehouse not in WAREHOUSES:
        raise ConfigError(f"ACCURX_WAREHOUSE must be one of {', '.join(WAREHOUSES)}, not {warehouse!r}")

    duckdb_path = Path(env.get("ACCURX_DUCKDB_PATH") or "data/accurx.duckdb").expanduser()
    if not duckdb_path.is_absolute():
        duckdb_path = REPO_ROOT / duckdb_path

    redis_url = env.get("REDIS_URL") or None
    cache_type = env.get("CACHE_TYPE") or ("RedisCache" if redis_url else "SimpleCache")
    if cache_type in ("simple", "redis", "null"):
        cache_type = {"simple": "SimpleCache", "redis": "RedisCache", "null": "NullCache"}[cache_type]

    snowflake_params = {
        key: str(env[f"SNOWFLAKE_{key.upper()}"])
        for key in _SNOWFLAKE_KEYS
        if env.get(f"SNOWFLAKE_{key.upper()}")
    }

    return Settings(
        warehouse=warehouse,
        duckdb_path=duckdb_path,
        database=str(env.get("ACCURX_DATABASE") or env.get("SNOWFLAKE_DATABASE") or "ACCURX"),
        presentation_schema=str(env.get("ACCURX_PRESENTATION_SCHEMA") or "04_PRESENTATION"),
        statement_timeout_seconds=_int(env, "ACCURX_STATEMENT_TIMEOUT_SECONDS", 30),
        duckdb_keep_open_seconds=max(0, _int(env, "ACCURX_DUCKDB_KEEP_OPEN_SECONDS", 30)),
        build_check_seconds=_int(env, "ACCURX_BUILD_CHECK_SECONDS", 60),
        query_attempts=max(1, _int(env, "ACCURX_QUERY_ATTEMPTS", 3)),
        retry_base_seconds=_seconds(env, "ACCURX_RETRY_BASE_SECONDS", 0.25),
        retry_budget_seconds=_seconds(env, "ACCURX_RETRY_BUDGET_SECONDS", 10),
        stale_max_age_seconds=_int(env, "ACCURX_STALE_MAX_AGE_SECONDS", 86400),
        outage_cooldown_seconds=_seconds(env, "ACCURX_OUTAGE_COOLDOWN_SECONDS", 10),
        outage_after_timeouts=_int(env, "ACCURX_OUTAGE_AFTER_TIMEOUTS", 3),
        request_budget_seconds=_seconds(env, "ACCURX_REQUEST_BUDGET_SECONDS", 30),
        cache_redis_timeout_seconds=_seconds(env, "ACCURX_REDIS_TIMEOUT_SECONDS", 0.5),
        cache_type=cache_type,
        cache_redis_url=redis_url,
        cache_default_timeout=_int(env, "CACHE_DEFAULT_TIMEOUT", 3600),
        snowflake_connection_name=env.get("SNOWFLAKE_CONNECTION_NAME") or None,
        snowflake_role=str(env.get("SNOWFLAKE_ROLE") or DASHBOARD_ROLE),
        snowflake_params=snowflake_params,
        snowflake_pool_size=_int(env, "ACCURX_SNOWFLAKE_POOL_SIZE", 8),
        snowflake_idle_seconds=_int(env, "ACCURX_SNOWFLAKE_IDLE_SECONDS", 900),
        snowflake_login_timeout_seconds=max(1, _int(env, "ACCURX_SNOWFLAKE_LOGIN_TIMEOUT_SECONDS", 10)),
        log_level=str(env.get("ACCURX_LOG_LEVEL") or "INFO").upper(),
    )
