"""Tools from Debian's packages that some tests drive, installed on first use where missing.

Playwright's own browser download cannot reach the network here, so the browser tests drive
the Chromium of the machine's package manager; the deployment checks use docker-compose and
systemd-analyze; the accessibility check runs npm's axe-core in that Chromium; the report's
Arabic and Urdu quotes need a font with their letters (Debian's fonts-noto-core). A fresh machine
of this kind installs each as the test first needs it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Flags that keep Chromium from reaching out on its own (updates, sync, safe browsing).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def installing() -> Iterator[None]:
    """One install at a time across the suite's worker processes (apt and npm lock their own
    folders and fail, rather than wait, when another install holds them)."""
    with open(Path(tempfile.gettempdir()) / "dialogue-tests-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def apt_install(package: str, why: str) -> None:
    """Install Debian's ``package``; without apt-get or root, fail saying ``why`` it is needed."""
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.fail(f"{why}: install Debian's {package} package (as root)")
    quiet = {"check": True, "capture_output": True, "timeout": 900}
    subprocess.run(["apt-get", "update", "-qq"], **quiet)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], **quiet)


def installed(command: str, package: str) -> Path:
    """The command's path, installing Debian's ``package`` first when it is not there."""
    found = shutil.which(command)
    if found is not None:
        return Path(found)
    with installing():
        # Another worker may have installed it while this one waited.
        if shutil.which(command) is None:
            apt_install(package, f"{command} is missing")
    found = shutil.which(command)
    assert found is not None, f"installing {package} gave no {command}"
    return Path(found)


def chromium() -> Path:
    """Debian's Chromium."""
    return installed("chromium", "chromium")


def arabic_fonts() -> set[str]:
    """The families of the machine's fonts with Arabic's and Urdu's letters (Urdu needs more
    than Arabic: DejaVu Sans has Arabic's only); Debian's Noto fonts are installed if none."""

    def families() -> set[str]:
        found = []
        for language in ("ar", "ur"):
            listed = subprocess.run(
                [str(installed("fc-list", "fontconfig")), f":lang={language}", "family"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            found.append({name.strip() for line in listed.splitlines() for name in line.split(",")})
        return found[0] & found[1]

    found = families()
    if not found:
        with installing():
            if not families():
                apt_install("fonts-noto-core", "no font has Arabic's and Urdu's letters")
        found = families()
    assert found, "installing fonts-noto-core gave no font with Arabic's and Urdu's letters"
    return found


def pdftotext() -> Path:
    """Poppler's pdftotext, which reads back the text of a printed report."""
    return installed("pdftotext", "poppler-utils")


def npm_package(name: str, version: str) -> Path:
    """The folder of an npm package, installed on first use into a cache outside the repo."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dialogue-tests"
    folder = cache / "npm" / "node_modules" / name
    if (folder / "package.json").is_file():
        return folder
    npm = installed("npm", "npm")
    with installing():
        if (folder / "package.json").is_file():
            return folder  # another worker installed it while this one waited
        subprocess.run(
            [str(npm), "install", "--prefix", str(cache / "npm"), "--no-audit", "--no-fund"]
            + [f"{name}@{version}"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    return folder
