"""``dialogue export``: write a dataset, or list the erasures owed to earlier exports."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime

from bot.app import App
from bot.cli.usage import UsageError
from exporters.dataset import ExportError, ExportOptions, export_dataset
from storage.datasets import Datasets


async def run(args: argparse.Namespace, app: App) -> int:
    """Carry out ``dialogue export ...``; user errors become messages and exit status 2."""
    datasets = Datasets(app.database)
    if args.action == "erasures":
        return await _erasures(datasets, args.since)
    if args.out is None:
        raise UsageError("dialogue export: --out FOLDER is required (a new, empty folder)")
    if await _empty(datasets, args.cycle):
        where = f"cycle '{args.cycle}'" if args.cycle else "the database"
        print(f"Nothing to export: {where} holds no replies or votes yet; no folder was written.")
        return 1
    settings = app.settings.export
    options = ExportOptions(
        out=args.out,
        cycle_id=args.cycle,
        made_by=args.by or getpass.getuser(),
        now=datetime.now(UTC),
        profile=args.profile or settings.profile,
        threshold=settings.suppression_threshold,
        redact=tuple(settings.redact),
        language=app.settings.content.language,
        group_labels=settings.public_group_labels,
        narrative=settings.narrative,
        themes_file=settings.themes_file(args.cycle),
    )
    try:
        result = await export_dataset(datasets, app.library, app.pseudonymiser, options)
    except ExportError as exc:
        print(f"Export problem: {exc}", file=sys.stderr)
        return 2
    for path, count in result.rows.items():
        print(f"{path}: {count} rows")
    found = ", ".join(f"{k} {n}" for k, n in result.redactions.items() if n) or "none"
    print(f"Export {result.export_id} written to {result.folder} (redacted: {found}).")
    return 0


async def _empty(datasets: Datasets, cycle_id: str | None) -> bool:
    # An unknown cycle is not "empty": the export names the cycles there are.
    if cycle_id is not None and cycle_id not in {c.cycle_id for c in await datasets.cycles()}:
        return False
    return sum(await datasets.counts(cycle_id)) == 0


async def _erasures(datasets: Datasets, since: int | None) -> int:
    if since is None:
        raise UsageError("dialogue export erasures: give --since EXPORT_ID")
    known = {e.export_id for e in await datasets.exports()}
    if since not in known:
        print(
            f"Export problem: --since: there is no export {since}; "
            f"exports made: {', '.join(map(str, sorted(known))) or 'none yet'}",
            file=sys.stderr,
        )
        return 2
    notices = await datasets.erasures_since(since)
    print("export_id,profile,cycle,pseudonym,erased_at")
    for n in notices:
        e = n.export
        print(
            f"{e.export_id},{e.profile},{e.cycle_id or ''},{n.pseudonym},{n.erased_at.isoformat()}"
        )
    print(f"{len(notices)} pseudonyms to delete from exports since {since}.", file=sys.stderr)
    return 0
