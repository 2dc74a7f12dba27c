"""Debian's Chromium for the browser tests, installed on first use where it is missing.

Playwright's own browser download cannot reach the network here, so the tests drive the
Chromium of the machine's package manager, as a fresh machine of this kind can install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
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


def chromium() -> Path:
    """The browser's path, installing Debian's package first when it is not there."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (as root)")
    quiet = {"check": True, "capture_output": True, "timeout": 900}
    subprocess.run(["apt-get", "update", "-qq"], **quiet)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], **quiet)
    return CHROMIUM
