"""Every setting of the dashboard and of its gunicorn server, read from the environment
in this one place (gunicorn.conf.py and serving/ receive them from here).

With no environment at all the app serves the embedded demo: DuckDB at
`data/accurx.duckdb` (relative to the repository root), an in-process cache, no
sign-in, gunicorn on 127.0.0.1:8050. `load_settings(overrides)` is what the app
factory and gunicorn.conf.py call; tests pass overrides (keys are the environment
variable names below) instead of editing `os.environ`. Every bad value raises the one
`ConfigError`, whose message names the variable.

Warehouse and query cache:

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
| CACHE_TYPE | SimpleCache (RedisCache when REDIS_URL is set; under gunicorn with several workers and no REDIS_URL, FileSystemCache in a private temporary directory the workers share, removed when gunicorn stops) | flask-caching backend: SimpleCache (`simple`, per process), FileSystemCache (`file`, shared by the processes of one machine), RedisCache (`redis`), NullCache (`null`) |
| ACCURX_CACHE_DIR | unset | the directory of a FileSystemCache (needed with CACHE_TYPE=FileSystemCache; its files are mode 0600) |
| REDIS_URL | unset | e.g. redis://localhost:6379/0, shared by all gunicorn workers (also holds the sign-out list) |
| CACHE_DEFAULT_TIMEOUT | 3600 | seconds a query result is kept |
| ACCURX_WARM_UP_SECONDS | 600 | after every build goes live (start, or a worker noticing a rebuilt warehouse), the default view of every tab and every customer's page is rendered into the response cache in the background, for at most this long (serving/warm_up.py); 0: off |
| ACCURX_RESPONSE_CACHE | 1 | 0: do not reuse rendered callback responses (serving/response_cache.py; off anyway with CACHE_TYPE=NullCache) |
| SNOWFLAKE_CONNECTION_NAME | unset | a named connection from connections.toml (the connector's default location, or `$SNOWFLAKE_HOME/connections.toml`); the variables below override its values |
| SNOWFLAKE_ACCOUNT, _USER, _WAREHOUSE, _HOST, _PORT, _PROTOCOL, _AUTHENTICATOR | unset | connection values when no connection name is given (or to override it) |
| SNOWFLAKE_PRIVATE_KEY_FILE | unset | path of the key-pair private key (PKCS#8 PEM); implies authenticator SNOWFLAKE_JWT |
| SNOWFLAKE_PRIVATE_KEY_FILE_PWD | unset | passphrase of that key, if it is encrypted (environment only) |
| SNOWFLAKE_PASSWORD | unset | development only (e.g. a local fakesnow); the production user is a key-pair SERVICE user |
| SNOWFLAKE_ROLE | ACCURX_DASHBOARD_READER | the role every session uses (overrides connections.toml): read-only on the presentation views |
| SNOWFLAKE_DATABASE | ACCURX | Snowflake database, as in the dbt profile (DuckDB: ignored, the catalog is the file stem) |
| ACCURX_SNOWFLAKE_POOL_SIZE | 8 | idle Snowflake sessions a worker keeps (per query tag, fewest-recently-used closed first) |
| ACCURX_SNOWFLAKE_IDLE_SECONDS | 900 | an idle session older than this is closed instead of reused |
| ACCURX_SNOWFLAKE_LOGIN_TIMEOUT_SECONDS | 10 | limit of one sign-in attempt |
| ACCURX_LOG_LEVEL | INFO | level of the app's own loggers |

Serving (gunicorn.conf.py, serving/):

| variable | default | meaning |
|---|---|---|
| HOST | 127.0.0.1 | the address gunicorn listens on (the image sets 0.0.0.0) |
| PORT | 8050 | its port |
| WORKERS | 2 | gunicorn worker processes |
| GUNICORN_THREADS | 4 | threads per worker (the page's parallel callback requests) |
| GUNICORN_TIMEOUT | 60 | seconds before gunicorn restarts a silent worker |
| GUNICORN_ACCESS_LOG | - | access log file (`-`: standard output) |
| GUNICORN_LOG_LEVEL | info | gunicorn's own log level |
| ACCURX_PROXY_HOPS | 0 | reverse proxies (load balancer, ingress) whose X-Forwarded-For/-Proto/-Host are believed, so that behind a TLS proxy the app knows it is served over https |
| ACCURX_READY_MAX_DATA_AGE_DAYS | unset | /readyz answers 503 when the data is older than this (serving/health.py) |
| ACCURX_PII_VIEWER_GROUPS | unset (nobody) | groups allowed to see real user ids (serving/personal_data.py; nobody without sign-in) |
| ACCURX_ALLOW_ANONYMOUS | 0 | 1: serve without sign-in although the warehouse is Snowflake or HOST is not a loopback address (refused otherwise; logged as a warning at every start) |

Sign-in (serving/auth.py; all unset: no sign-in, the embedded demo):

| variable | default | meaning |
|---|---|---|
| OIDC_ISSUER | unset | the issuer URL (its `/.well-known/openid-configuration` is read); set = sign-in on every route |
| OIDC_CLIENT_ID, OIDC_CLIENT_SECRET | unset | the app's registration with the issuer (required with an issuer) |
| SECRET_KEY | unset | signs the session cookie; required with an issuer (16+ characters), the same for every worker |
| OIDC_ALLOWED_GROUPS | unset | comma-separated group names or ids a user must be in (one of) |
| OIDC_GROUPS_CLAIM | groups | the claim holding the groups |
| OIDC_ALLOWED_DOMAINS | unset | comma-separated domains: the user's `hd` claim (Google Workspace's hosted domain) must be one of them, and so must the domain of the `email` claim when the issuer sends one |
| OIDC_ALLOWED_TENANTS | unset | comma-separated Microsoft Entra tenant ids: the user's `tid` claim must be one of them |
| OIDC_REDIRECT_URI | this host's `/auth/callback` | the callback URL registered with the issuer, when the app is behind a proxy |
| OIDC_SESSION_HOURS | 10 | sign in again after this many hours, whatever happens |
| OIDC_RECHECK_MINUTES | 60 (at most 60) | the issuer is asked again (a new sign-in round trip, silent while the user's session there lasts) after this long, so a user removed from a group or the directory loses access within the hour |
| OIDC_SCOPE | openid | scopes asked for (the app needs only the subject, groups, `hd`/`tid`) |

Refused at start (`check_exposure`, called by the app factory and by gunicorn before it
binds): no sign-in while the warehouse is Snowflake or gunicorn binds a non-loopback
address, unless ACCURX_ALLOW_ANONYMOUS=1; in that same situation, sign-in with no
restriction (domain, tenant or group), and sign-in on several workers without a
shared cache (REDIS_URL), where a sign-out would not reach the other workers.

Passwords, private keys, client secrets and their passphrases are read from the
environment (or from the connector's own connections.toml), never from files of this
repository; they are kept out of `repr()` and `describe()` and never logged.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

REPO_ROOT = Path(__file__).resolve().parent

WAREHOUSES = ("duckdb", "snowflake")

# snowflake.connector.connect keyword arguments read from SNOWFLAKE_<KEY> variables.
_SNOWFLAKE_KEYS = (
    "account", "user", "password", "warehouse", "authenticator",
    "private_key_file", "private_key_file_pwd", "host", "port", "protocol",
)
DASHBOARD_ROLE = "ACCURX_DASHBOARD_READER"
# Group membership is confirmed with the issuer at least this often.
MAX_RECHECK_MINUTES = 60

log = logging.getLogger("accurx.config")


SIMPLE_CACHE_MAX_ENTRIES = 20_000
# A FileSystemCache keeps one file per entry. The demo's warm-up stores ~7,000 (23 per
# page: its callback responses and the query results behind them; 7.7 KB each on
# average), so 3,000 customers' pages need ~70,000: room for them under the warm-up's
# 80% stop, about 800 MB of disk at most.
FILE_CACHE_MAX_ENTRIES = 100_000


class ConfigError(ValueError):
    """A setting has a value the app cannot use; the message names the variable."""


@dataclass(frozen=True)
class SignInSettings:
    """OpenID Connect sign-in (serving/auth.py)."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    secret_key: str = field(repr=False)
    allowed_groups: frozenset[str] = frozenset()
    groups_claim: str = "groups"
    allowed_domains: frozenset[str] = frozenset()
    allowed_tenants: frozenset[str] = frozenset()
    redirect_uri: str | None = None
    session_hours: float = 10
    recheck_minutes: float = MAX_RECHECK_MINUTES
    scope: str = "openid"

    @property
    def cookie_secure(self) -> bool:
        """Secure cookies unless the app's own URL is plain http (local tests)."""
        return urlparse(self.redirect_uri or self.issuer).scheme != "http"

    @property
    def restricted(self) -> bool:
        """True when not every account of the issuer may use the dashboard."""
        return bool(self.allowed_groups or self.allowed_domains or self.allowed_tenants)


@dataclass(frozen=True)
class ServerSettings:
    """gunicorn's settings (gunicorn.conf.py)."""

    host: str = "127.0.0.1"
    port: int = 8050
    workers: int = 2
    threads: int = 4
    timeout: int = 60
    access_log: str = "-"
    log_level: str = "info"

    @property
    def bind(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class ServingSettings:
    """What serving/ wraps around the Dash app."""

    proxy_hops: int = 0
    ready_max_data_age_days: int | None = None
    response_cache: bool = True
    pii_viewer_groups: frozenset[str] = frozenset()
    allow_anonymous: bool = False
    sign_in: SignInSettings | None = None


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
    cache_dir: Path | None = None
    cache_default_timeout: int = 3600
    warm_up_seconds: float = 600
    snowflake_connection_name: str | None = None
    snowflake_role: str = DASHBOARD_ROLE
    # Connection keyword arguments for snowflake.connector.connect (may hold a password
    # or a key passphrase).
    snowflake_params: Mapping[str, str] = field(default_factory=dict, repr=False)
    snowflake_pool_size: int = 8
    snowflake_idle_seconds: int = 900
    snowflake_login_timeout_seconds: int = 10
    log_level: str = "INFO"
    server: ServerSettings = field(default_factory=ServerSettings)
    serving: ServingSettings = field(default_factory=ServingSettings)

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
            # Over this many entries cachelib drops every third one, oldest first. The
            # warm-up after a build stores ~4,000 at demo scale (a response per page and
            # callback, and the query results behind them): at 4,000 it evicted the very
            # tab views it had just rendered. Room for five times that (~100-200 MB per
            # worker); at 3,000 customers use Redis (REDIS_URL), shared by the workers.
            config["CACHE_THRESHOLD"] = SIMPLE_CACHE_MAX_ENTRIES
        if self.cache_type == "FileSystemCache":
            # One worker's render or query serves every worker of the machine (and the
            # warm-up after a build runs once, not once per worker).
            config["CACHE_DIR"] = str(self.cache_dir)
            config["CACHE_THRESHOLD"] = FILE_CACHE_MAX_ENTRIES
            config["CACHE_OPTIONS"] = {"mode": 0o600}
        return config

    def describe(self) -> dict[str, Any]:
        """Facts safe to log or show (no secrets)."""
        facts: dict[str, Any] = {
            "warehouse": self.warehouse,
            "schema": self.presentation_schema,
            "cache": self.cache_type,
            "sign_in": "oidc" if self.serving.sign_in else "off",
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


def split_list(text: str | None) -> frozenset[str]:
    """'a, b,,c' -> {'a', 'b', 'c'}."""
    return frozenset(part.strip() for part in (text or "").split(",") if part.strip())


def _int(env: Mapping[str, Any], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative")
    return value


def _optional_int(env: Mapping[str, Any], name: str) -> int | None:
    if str(env.get(name) or "").strip() == "":
        return None
    return _int(env, name, 0)


def _seconds(env: Mapping[str, Any], name: str, default: float, unit: str = "seconds") -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number of {unit}, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative")
    return value


def _flag(env: Mapping[str, Any], name: str, default: bool) -> bool:
    raw = str(env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, not {raw!r}")


def _sign_in(env: Mapping[str, Any]) -> SignInSettings | None:
    issuer = str(env.get("OIDC_ISSUER") or "").strip()
    if not issuer:
        return None
    client_id = str(env.get("OIDC_CLIENT_ID") or "").strip()
    client_secret = str(env.get("OIDC_CLIENT_SECRET") or "")
    if not client_id or not client_secret:
        raise ConfigError("OIDC_ISSUER is set, so OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required")
    secret_key = str(env.get("SECRET_KEY") or "")
    if len(secret_key) < 16:
        # A per-process random key would break sign-in as soon as two workers serve one user.
        raise ConfigError("OIDC_ISSUER is set, so SECRET_KEY (at least 16 characters, "
                          "the same for every worker) is required")
    hours = _seconds(env, "OIDC_SESSION_HOURS", 10, unit="hours")
    if hours <= 0:
        raise ConfigError("OIDC_SESSION_HOURS must be positive")
    recheck = _seconds(env, "OIDC_RECHECK_MINUTES", MAX_RECHECK_MINUTES, unit="minutes")
    if not 0 < recheck <= MAX_RECHECK_MINUTES:
        raise ConfigError(f"OIDC_RECHECK_MINUTES must be more than 0 and at most {MAX_RECHECK_MINUTES}")
    return SignInSettings(
        issuer=issuer.rstrip("/"),
        client_id=client_id,
        client_secret=client_secret,
        secret_key=secret_key,
        allowed_groups=split_list(env.get("OIDC_ALLOWED_GROUPS")),
        groups_claim=str(env.get("OIDC_GROUPS_CLAIM") or "groups").strip(),
        allowed_domains=frozenset(d.lower().lstrip("@") for d in split_list(env.get("OIDC_ALLOWED_DOMAINS"))),
        allowed_tenants=frozenset(t.lower() for t in split_list(env.get("OIDC_ALLOWED_TENANTS"))),
        redirect_uri=str(env.get("OIDC_REDIRECT_URI") or "").strip() or None,
        session_hours=hours,
        recheck_minutes=recheck,
        scope=str(env.get("OIDC_SCOPE") or "openid").strip(),
    )


def _server(env: Mapping[str, Any]) -> ServerSettings:
    port = _int(env, "PORT", 8050)
    if not 0 < port < 65536:
        raise ConfigError(f"PORT must be between 1 and 65535, not {port}")
    return ServerSettings(
        host=str(env.get("HOST") or "127.0.0.1").strip().strip("[]"),
        port=port,
        workers=max(1, _int(env, "WORKERS", 2)),
        threads=max(1, _int(env, "GUNICORN_THREADS", 4)),
        timeout=_int(env, "GUNICORN_TIMEOUT", 60),
        access_log=str(env.get("GUNICORN_ACCESS_LOG") or "-"),
        log_level=str(env.get("GUNICORN_LOG_LEVEL") or "info").lower(),
    )


def share_cache_between_workers(workers: int, environ: dict | None = None) -> Path | None:
    """For gunicorn's master before it forks: with several workers and no cache chosen
    (neither CACHE_TYPE nor REDIS_URL), make a private temporary directory (mode 0700)
    and set CACHE_TYPE=FileSystemCache and ACCURX_CACHE_DIR in `environ` (default
    `os.environ`, which the workers inherit), so that one worker's renders, queries and
    warm-up serve them all. Returns the directory (the caller removes it at exit), or None."""
    import tempfile

    env = os.environ if environ is None else environ
    if workers < 2 or env.get("CACHE_TYPE") or env.get("REDIS_URL"):
        return None
    directory = Path(tempfile.mkdtemp(prefix="accurx-cache-"))
    env["CACHE_TYPE"] = "FileSystemCache"
    env["ACCURX_CACHE_DIR"] = str(directory)
    return directory


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from `environ` (default `os.environ`) with `overrides` on top.

    Raises ConfigError for a value that cannot work (unknown warehouse, bad number,
    half-configured sign-in). Whether the combination is safe to serve is
    `check_exposure`'s question."""
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
    aliases = {"simple": "SimpleCache", "redis": "RedisCache", "null": "NullCache", "file": "FileSystemCache"}
    cache_type = aliases.get(cache_type, cache_type)
    cache_dir = Path(env["ACCURX_CACHE_DIR"]).expanduser() if env.get("ACCURX_CACHE_DIR") else None
    if cache_type == "FileSystemCache" and cache_dir is None:
        raise ConfigError("CACHE_TYPE=FileSystemCache needs ACCURX_CACHE_DIR, the directory it keeps its files in")

    snowflake_params = {
        key: str(env[f"SNOWFLAKE_{key.upper()}"])
        for key in _SNOWFLAKE_KEYS
        if env.get(f"SNOWFLAKE_{key.upper()}")
    }

    return Settings(
        warehouse=warehouse,
        duckdb_path=duckdb_path,
        database=str(env.get("SNOWFLAKE_DATABASE") or "ACCURX"),
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
        cache_dir=cache_dir,
        cache_default_timeout=_int(env, "CACHE_DEFAULT_TIMEOUT", 3600),
        warm_up_seconds=_seconds(env, "ACCURX_WARM_UP_SECONDS", 600),
        snowflake_connection_name=env.get("SNOWFLAKE_CONNECTION_NAME") or None,
        snowflake_role=str(env.get("SNOWFLAKE_ROLE") or DASHBOARD_ROLE),
        snowflake_params=snowflake_params,
        snowflake_pool_size=_int(env, "ACCURX_SNOWFLAKE_POOL_SIZE", 8),
        snowflake_idle_seconds=_int(env, "ACCURX_SNOWFLAKE_IDLE_SECONDS", 900),
        snowflake_login_timeout_seconds=max(1, _int(env, "ACCURX_SNOWFLAKE_LOGIN_TIMEOUT_SECONDS", 10)),
        log_level=str(env.get("ACCURX_LOG_LEVEL") or "INFO").upper(),
        server=_server(env),
        serving=ServingSettings(
            proxy_hops=_int(env, "ACCURX_PROXY_HOPS", 0),
            ready_max_data_age_days=_optional_int(env, "ACCURX_READY_MAX_DATA_AGE_DAYS"),
            response_cache=_flag(env, "ACCURX_RESPONSE_CACHE", True),
            pii_viewer_groups=split_list(env.get("ACCURX_PII_VIEWER_GROUPS")),
            allow_anonymous=_flag(env, "ACCURX_ALLOW_ANONYMOUS", False),
            sign_in=_sign_in(env),
        ),
    )


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost,
    a unix socket). Any other name or address counts as reachable from the network."""
    host = host.strip().strip("[]")
    if host.startswith(("unix:", "fd://")) or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_host(bind: str) -> str:
    """The host part of a gunicorn bind string ("0.0.0.0:80", "[::1]:8050", "unix:/x")."""
    if bind.startswith(("unix:", "fd://")):
        return bind
    if bind.startswith("["):
        return bind[1:].split("]", 1)[0]
    return bind.rsplit(":", 1)[0] if ":" in bind else bind


def check_exposure(settings: Settings, hosts: Iterable[str] | None = None,
                   workers: int | None = None) -> None:
    """Refuse (ConfigError) a deployment that would serve customer data to more than
    this machine without a restricted sign-in, or whose sign-out would not reach every
    worker. `hosts` are the addresses gunicorn binds and `workers` its worker count
    (default: HOST and WORKERS). Logs a warning when ACCURX_ALLOW_ANONYMOUS lets an
    exposed app run without sign-in."""
    hosts = [settings.server.host] if hosts is None else list(hosts)
    workers = settings.server.workers if workers is None else workers
    reasons = [f"gunicorn listens on {host}, not a loopback address"
               for host in hosts if not is_loopback(host)]
    if settings.warehouse == "snowflake":
        reasons.insert(0, "the warehouse is Snowflake")
    if not reasons:
        return
    why = " and ".join(reasons)
    sign_in = settings.serving.sign_in
    if sign_in is None:
        if not settings.serving.allow_anonymous:
            raise ConfigError(
                f"Sign-in is off (OIDC_ISSUER is unset) but {why}: set OIDC_ISSUER, "
                "OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and SECRET_KEY, or set "
                "ACCURX_ALLOW_ANONYMOUS=1 to serve without sign-in on purpose")
        log.warning("ACCURX_ALLOW_ANONYMOUS=1: serving WITHOUT SIGN-IN although %s; "
                    "anyone who can reach this address sees the dashboard's data", why)
        return
    if not sign_in.restricted:
        raise ConfigError(
            f"Sign-in is on but restricted to nobody in particular and {why}: every account "
            "of the issuer could sign in. Set OIDC_ALLOWED_DOMAINS, OIDC_ALLOWED_TENANTS "
            "or OIDC_ALLOWED_GROUPS")
    if workers > 1 and settings.cache_type != "RedisCache":
        raise ConfigError(
            f"Sign-in on {workers} workers needs REDIS_URL (a cache they share), or a "
            "sign-out would end the session in one worker only; or set WORKERS=1")
