"""config.py is the one place settings are read: every variable it reads is in its
table, nothing else in the app reads the environment, bad values raise the one
ConfigError, and gunicorn takes its bind and worker count from the same names as
`make run` and the image (HOST, PORT, WORKERS). `check_exposure` refuses to serve
customer data beyond this machine without a restricted sign-in (issue 10, point 1
and 2), in the app factory and in gunicorn before it binds."""

from __future__ import annotations

import logging
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import config
from app import create_app
from config import ConfigError, bind_host, check_exposure, is_loopback, load_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
# The packages and modules of the running app (the warehouse CLI has its own arguments).
APP_SOURCES = ["app.py", "gunicorn.conf.py", "callbacks", "components", "queries", "serving"]


def _names_read_by_config() -> set[str]:
    source = Path(config.__file__).read_text().split('"""', 2)[2]
    names = set(re.findall(r'env(?:\.get\(|\[|, )\s*f?"([A-Z][A-Z0-9_]+)"', source))
    prefixed = {f"SNOWFLAKE_{key.upper()}" for key in config._SNOWFLAKE_KEYS}
    return names | prefixed


def _table_names() -> set[str]:
    documented: set[str] = set()
    for row in config.__doc__.splitlines():
        if not row.startswith("| ") or row.startswith(("| variable", "|---")):
            continue
        cell = row.split("|")[1]
        for name in re.findall(r"[A-Z][A-Z0-9_]+", cell):
            documented.add(name)
        for suffix in re.findall(r"\b_([A-Z][A-Z0-9_]+)", cell):  # "SNOWFLAKE_ACCOUNT, _USER"
            documented.add(cell.split("_", 1)[0].strip() + "_" + suffix)
    return documented


def test_every_variable_config_reads_is_in_its_table():
    read = _names_read_by_config()
    assert {"OIDC_SESSION_HOURS", "OIDC_REDIRECT_URI", "OIDC_SCOPE", "ACCURX_RESPONSE_CACHE",
            "HOST", "PORT", "WORKERS"} <= read
    assert read - _table_names() == set()


def test_no_other_module_of_the_app_reads_the_environment():
    readers = []
    for entry in APP_SOURCES:
        path = REPO_ROOT / entry
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            text = file.read_text()
            if re.search(r"os\.environ|os\.getenv|getenv\(", text):
                readers.append(str(file.relative_to(REPO_ROOT)))
    assert readers == []


@pytest.mark.parametrize("name", ["ACCURX_BIND", "WEB_CONCURRENCY", "ACCURX_DATABASE"])
def test_a_retired_second_name_is_nowhere(name):
    for path in ["config.py", "gunicorn.conf.py", "scripts/serve.sh", "Makefile", "Dockerfile",
                 "README.md"]:
        assert name not in (REPO_ROOT / path).read_text(), path


@pytest.mark.parametrize("env,words", [
    ({"ACCURX_RESPONSE_CACHE": "maybe"}, "ACCURX_RESPONSE_CACHE"),
    ({"ACCURX_PROXY_HOPS": "two"}, "ACCURX_PROXY_HOPS"),
    ({"ACCURX_WARM_UP_SECONDS": "soon"}, "ACCURX_WARM_UP_SECONDS"),
    ({"ACCURX_WARM_UP_SECONDS": "-5"}, "ACCURX_WARM_UP_SECONDS"),
    ({"ACCURX_READY_MAX_DATA_AGE_DAYS": "-1"}, "ACCURX_READY_MAX_DATA_AGE_DAYS"),
    ({"PORT": "http"}, "PORT"),
    ({"PORT": "70000"}, "PORT"),
    ({"WORKERS": "many"}, "WORKERS"),
    ({"OIDC_ISSUER": "https://login.example"}, "OIDC_CLIENT_ID"),
])
def test_every_bad_value_is_one_config_error_naming_the_variable(env, words):
    with pytest.raises(ConfigError, match=words):
        load_settings(env, environ={})


def test_serving_settings_are_parsed_in_config():
    settings = load_settings(environ={
        "ACCURX_RESPONSE_CACHE": "0", "ACCURX_PROXY_HOPS": "2", "ACCURX_PII_VIEWER_GROUPS": "a, b,,",
        "ACCURX_READY_MAX_DATA_AGE_DAYS": "3", "OIDC_ISSUER": "https://login.example/",
        "OIDC_CLIENT_ID": "dash", "OIDC_CLIENT_SECRET": "client-secret-value",
        "SECRET_KEY": "k" * 32, "OIDC_SCOPE": "openid email", "OIDC_SESSION_HOURS": "2",
    })
    serving = settings.serving
    assert serving.response_cache is False and serving.proxy_hops == 2
    assert serving.pii_viewer_groups == {"a", "b"} and serving.ready_max_data_age_days == 3
    assert serving.sign_in.issuer == "https://login.example" and serving.sign_in.scope == "openid email"
    assert serving.sign_in.session_hours == 2
    assert "client-secret-value" not in repr(settings) and "k" * 32 not in repr(settings)
    default = load_settings(environ={}).serving
    assert default.response_cache is True and default.proxy_hops == 0 and default.sign_in is None


def test_gunicorn_binds_and_forks_as_host_port_and_workers_say(monkeypatch):
    for name in ("HOST", "PORT", "WORKERS", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    default = runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))
    assert default["bind"] == "127.0.0.1:8050" and default["workers"] == 2
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("WORKERS", "5")
    monkeypatch.setenv("GUNICORN_THREADS", "8")
    chosen = runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))
    assert chosen["bind"] == "0.0.0.0:9000" and chosen["workers"] == 5 and chosen["threads"] == 8
    monkeypatch.setenv("HOST", "::1")
    assert runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))["bind"] == "[::1]:9000"


def test_several_workers_without_a_chosen_cache_share_a_private_file_cache(tmp_path):
    environ = {}
    directory = config.share_cache_between_workers(2, environ)
    try:
        assert directory.is_dir() and directory.stat().st_mode & 0o777 == 0o700
        settings = load_settings(environ=environ)
        assert settings.cache_type == "FileSystemCache" and settings.cache_dir == directory
        flask_config = settings.flask_cache_config()
        assert flask_config["CACHE_DIR"] == str(directory) and flask_config["CACHE_OPTIONS"]["mode"] == 0o600
    finally:
        directory.rmdir()
    # One worker, or a cache chosen: nothing is made and nothing changes.
    for workers, env in [(1, {}), (3, {"CACHE_TYPE": "simple"}), (3, {"REDIS_URL": "redis://cache:6379/0"})]:
        before = dict(env)
        assert config.share_cache_between_workers(workers, env) is None and env == before
    with pytest.raises(ConfigError, match="ACCURX_CACHE_DIR"):
        load_settings({"CACHE_TYPE": "file"}, environ={})


def test_make_run_and_the_image_set_the_names_gunicorn_reads():
    makefile = (REPO_ROOT / "Makefile").read_text()
    serve_recipe = makefile.split("\nserve:", 1)[1].split("\n\n", 1)[0]
    for name in ("HOST", "PORT", "WORKERS"):
        assert f"{name}=$({name})" in serve_recipe
        assert f"{name}=" in (REPO_ROOT / "Dockerfile").read_text()
    assert "--bind" not in (REPO_ROOT / "scripts" / "serve.sh").read_text()


# ---------------------------------------------------------------- sign-in fails closed
SIGN_IN = {"OIDC_ISSUER": "https://login.example", "OIDC_CLIENT_ID": "dashboard",
           "OIDC_CLIENT_SECRET": "client-secret", "SECRET_KEY": "k" * 32}


def exposure(env: dict, **kwargs) -> None:
    check_exposure(load_settings(env, environ={}), **kwargs)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "unix:/run/x.sock"])
def test_loopback_addresses(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.0.0.5", "dashboard.example", "127.0.0.1.nip.io"])
def test_addresses_reachable_from_the_network(host):
    assert not is_loopback(host)


def test_bind_strings_give_their_host():
    assert [bind_host(b) for b in ("0.0.0.0:80", "[::1]:8050", "unix:/x.sock", "localhost")] == [
        "0.0.0.0", "::1", "unix:/x.sock", "localhost"]


def test_the_embedded_demo_needs_no_sign_in():
    exposure({})
    exposure({"HOST": "127.0.0.1", "PORT": "8050", "WORKERS": "2"})  # make run


@pytest.mark.parametrize("env,why", [
    ({"ACCURX_WAREHOUSE": "snowflake"}, "Snowflake"),
    ({"HOST": "0.0.0.0"}, "0.0.0.0"),
    ({"OIDC_ISSUER": " ", "HOST": "10.0.0.5"}, "10.0.0.5"),  # a blank issuer is no issuer
])
def test_without_sign_in_an_exposed_app_refuses_to_start(env, why):
    with pytest.raises(ConfigError, match=f"{why}.*ACCURX_ALLOW_ANONYMOUS=1"):
        exposure(env)


def test_gunicorns_real_bind_counts_not_just_host():
    with pytest.raises(ConfigError, match="0.0.0.0"):
        exposure({}, hosts=["127.0.0.1", "0.0.0.0"])


def test_anonymous_on_purpose_starts_and_says_so_loudly(caplog):
    caplog.set_level(logging.WARNING, logger="accurx.config")
    exposure({"ACCURX_WAREHOUSE": "snowflake", "HOST": "0.0.0.0", "ACCURX_ALLOW_ANONYMOUS": "1"})
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and "WITHOUT SIGN-IN" in record.getMessage()
    with pytest.raises(ConfigError, match="ACCURX_ALLOW_ANONYMOUS"):
        exposure({"HOST": "0.0.0.0", "ACCURX_ALLOW_ANONYMOUS": "maybe"})


def test_the_app_factory_refuses_before_touching_the_warehouse(tmp_path):
    with pytest.raises(ConfigError, match="Sign-in is off"):
        create_app({"ACCURX_WAREHOUSE": "snowflake", "SNOWFLAKE_ACCOUNT": "acme"})
    with pytest.raises(ConfigError, match="Sign-in is off"):
        create_app({"ACCURX_DUCKDB_PATH": str(tmp_path / "none.duckdb"), "HOST": "0.0.0.0"})


def test_gunicorn_refuses_before_it_binds_a_public_address():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OIDC_", "ACCURX_", "HOST", "WORKERS", "REDIS_URL"))}
    proc = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:0",
         "--workers", "1", "app:server"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert "ACCURX_ALLOW_ANONYMOUS" in proc.stderr and "Booting worker" not in proc.stderr


def test_exposed_sign_in_must_be_restricted_to_someone():
    exposed = {**SIGN_IN, "HOST": "0.0.0.0", "WORKERS": "1"}
    with pytest.raises(ConfigError, match="OIDC_ALLOWED_DOMAINS, OIDC_ALLOWED_TENANTS or OIDC_ALLOWED_GROUPS"):
        exposure(exposed)
    for restriction in ({"OIDC_ALLOWED_DOMAINS": "accurx.example"}, {"OIDC_ALLOWED_TENANTS": "t-1"},
                        {"OIDC_ALLOWED_GROUPS": "accurx-commercial"}):
        exposure({**exposed, **restriction})
    exposure(SIGN_IN)  # on this machine only (the tests' own servers), no restriction needed


def test_exposed_sign_in_on_several_workers_needs_a_shared_cache_for_sign_out():
    exposed = {**SIGN_IN, "ACCURX_WAREHOUSE": "snowflake", "OIDC_ALLOWED_GROUPS": "g"}
    with pytest.raises(ConfigError, match="REDIS_URL"):
        exposure({**exposed, "WORKERS": "3"})
    exposure({**exposed, "WORKERS": "3", "REDIS_URL": "redis://cache.internal:6379/0"})
    exposure({**exposed, "WORKERS": "1"})
    with pytest.raises(ConfigError, match="REDIS_URL"):
        exposure({**exposed, "WORKERS": "1"}, workers=4)  # gunicorn's real worker count


def test_allowed_domains_and_tenants_are_read():
    sign_in = load_settings({**SIGN_IN, "OIDC_ALLOWED_DOMAINS": "Accurx.example, @nhs.example",
                             "OIDC_ALLOWED_TENANTS": "ABC-1"}, environ={}).serving.sign_in
    assert sign_in.allowed_domains == {"accurx.example", "nhs.example"}
    assert sign_in.allowed_tenants == {"abc-1"} and sign_in.restricted
