"""The cycle report printed to PDF by headless Chromium, for a policy report on paper."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


class PdfError(Exception):
    """The report could not be printed; the message says what to do."""


def browser() -> Path:
    """The first headless-capable Chromium on the PATH."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise PdfError("Chromium is needed to print the report: install it (Debian: chromium)")


def print_pdf(page: Path, out: Path, timeout: float = 120) -> Path:
    """Print the HTML ``page`` to ``out`` as the browser prints it (its print styles apply)."""
    # Root cannot use Chromium's sandbox; a profile of its own keeps the user's untouched.
    sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []
    with tempfile.TemporaryDirectory(prefix="dialogue-pdf-") as profile:
        command = [
            str(browser()),
            "--headless",
            *sandbox,
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        raise PdfError(f"Chromium could not print {page}: {done.stderr.strip()[-400:]}")
    return out
