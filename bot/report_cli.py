"""``dialogue report``: the cycle report of an export, printed to PDF."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.private_files import private_file
from exporters.pdf import PdfError, print_pdf


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``report`` to the command line."""
    command = commands.add_parser(
        "report",
        help="print an export's cycle report to PDF",
        description="Print the report.html of an export folder (made by 'dialogue export') "
        "to report.pdf beside it, as headless Chromium prints it: for a policy report.",
    )
    command.add_argument("folder", type=Path, help="an export folder holding report.html")
    command.add_argument("--pdf", action="store_true", required=True, help="write report.pdf")


def run(args: argparse.Namespace) -> int:
    """Write FOLDER/report.pdf; a missing report or browser is a message and status 2."""
    page = args.folder / "report.html"
    if not page.is_file():
        print(
            f"Report problem: {page}: there is no report here; give an export folder",
            file=sys.stderr,
        )
        return 2
    out = private_file(args.folder / "report.pdf")
    try:
        print_pdf(page, out)
    except PdfError as exc:
        print(f"Report problem: {exc}", file=sys.stderr)
        return 2
    print(f"Printed {out}.")
    return 0
