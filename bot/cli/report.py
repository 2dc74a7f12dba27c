"""``dialogue report``: an export's cycle report printed to PDF, and the learning report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.app import App
from bot.cli.usage import UsageError
from bot.private_files import private_file
from bot.texts import Catalogue
from exporters import learning_report
from exporters.disclosure import DisclosureError
from exporters.learning import Words
from exporters.pdf import PdfError, print_pdf
from storage.datasets import Datasets


def run(args: argparse.Namespace) -> int:
    """Write FOLDER/report.pdf; a missing report or browser is a message and status 2."""
    if args.folder is None or not args.pdf:
        raise UsageError("dialogue report: give FOLDER --pdf, or --learning --out FOLDER")
    page = args.folder / "report.html"
    if not page.is_file():
        print(
            f"Report problem: {page}: there is no report here; give an export folder",
            file=sys.stderr,
        )
        return 2
    return _print(page)


async def learning(args: argparse.Namespace, app: App) -> int:
    """Write the learning report across every cycle into ``--out``."""
    if args.out is None or args.folder is not None:
        raise UsageError("dialogue report --learning: give --out FOLDER (a new, empty folder)")
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        print(f"Report problem: --out: {args.out} is not an empty folder", file=sys.stderr)
        return 2
    settings = app.settings.export
    public = (args.profile or settings.profile) == "public"
    say = Words(Catalogue.load(), app.settings.content.language)
    cycles = await learning_report.gather(
        Datasets(app.database),
        app.library,
        app.pseudonymiser,
        public,
        settings.suppression_threshold,
        say,
        settings.public_group_labels,
    )
    if not cycles:
        print("Nothing to report: no cycle has sessions yet; no folder was written.")
        return 1
    try:
        for cycle in cycles if public else ():
            cycle.disclosure.check(f"The learning report (cycle {cycle.cycle_id})")
    except DisclosureError as failed:
        print(f"Report problem: {failed}", file=sys.stderr)
        return 2
    page = private_file(args.out / "learning.html")
    page.write_text(learning_report.render(cycles, say, public), encoding="utf-8")
    print(f"Wrote {page}.")
    return _print(page) if args.pdf else 0


def _print(page: Path) -> int:
    out = private_file(page.with_suffix(".pdf"))
    try:
        print_pdf(page, out)
    except PdfError as exc:
        print(f"Report problem: {exc}", file=sys.stderr)
        return 2
    print(f"Printed {out}.")
    return 0
