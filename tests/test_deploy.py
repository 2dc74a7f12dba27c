"""The deployment kit, checked statically: no container engine or init system runs here.

The Dockerfile goes through hadolint (from PyPI), compose.yaml through `docker compose config`
(or docker-compose), and the systemd unit through `systemd-analyze verify` and its offline
security review. A tool missing on this machine is installed from Debian's packages first.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.cli import ROOT
from tests.support.debian import installed

HADOLINT = Path(sys.executable).parent / "hadolint"


def _run(*command: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_the_dockerfile_passes_hadolint() -> None:
    linted = _run(str(HADOLINT), "--failure-threshold", "info", "Dockerfile")
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert linted.stdout == ""


def test_the_image_is_small_runs_unprivileged_and_checks_its_health() -> None:
    steps = _instructions()
    final = steps[max(i for i, (word, _) in enumerate(steps) if word == "FROM") :]
    assert final[0] == ("FROM", "python:3.11-slim")
    users = [rest for word, rest in final if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert all("--no-cache-dir" in rest for word, rest in steps if "pip " in rest)
    health = [rest for word, rest in final if word == "HEALTHCHECK"]
    assert health and "dialogue health" in health[0]
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for word, rest in steps:
        if word == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                assert (ROOT / source).exists(), source
                assert source not in ignored, source


def _compose() -> list[str]:
    docker = shutil.which("docker")
    if docker and _run(docker, "compose", "version").returncode == 0:
        return [docker, "compose"]
    return [str(installed("docker-compose", "docker-compose"))]


def test_compose_file_is_valid_with_health_checks_and_named_volumes(tmp_path: Path) -> None:
    compose = _compose()
    (tmp_path / "deploy").mkdir()
    shutil.copy(ROOT / "compose.yaml", tmp_path)
    for name in ("db.env", "dialogue.env"):
        shutil.copy(ROOT / "deploy" / f"{name}.example", tmp_path / "deploy" / name)
    checked = _run(*compose, "-f", "compose.yaml", "config", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    config = yaml.safe_load(checked.stdout)
    services = config["services"]
    assert set(services) == {"db", "bot"}
    assert "dialogue health" in " ".join(services["bot"]["healthcheck"]["test"])
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["bot"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert set(config["volumes"]) == {"db-data", "bot-data"}
    assert services["bot"]["environment"]["DIALOGUE_DATABASE__URL"].startswith("postgresql")


def test_the_systemd_unit_verifies_and_is_hardened(tmp_path: Path) -> None:
    analyze = installed("systemd-analyze", "systemd")
    dialogue = Path(sys.executable).parent / "dialogue"
    unit = (ROOT / "deploy" / "dialogue.service").read_text(encoding="utf-8")
    # verify checks that ExecStart exists: point it at this machine's dialogue command.
    copy = tmp_path / "dialogue.service"
    copy.write_text(unit.replace("/opt/dialogue/venv/bin/dialogue", str(dialogue)))
    verified = _run(str(analyze), "verify", str(copy))
    assert verified.returncode == 0 and verified.stderr == "", verified.stderr
    review = _run(str(analyze), "security", "--offline=yes", str(copy))
    exposure = re.search(r"Overall exposure level for dialogue.service: ([\d.]+)", review.stdout)
    assert exposure is not None, review.stdout + review.stderr
    assert float(exposure.group(1)) <= 2.0
