"""``dialogue reach``: who took part in a cycle, against the area's population, as text."""

from __future__ import annotations

import argparse
import sys

from bot.app import App
from exporters import published, reach_render
from exporters.disclosure import DisclosureError
from storage.datasets import Datasets


async def run(args: argparse.Namespace, app: App) -> int:
    """Print the reach report of a cycle; a cycle without sessions is a clear message."""
    threshold = args.threshold or app.settings.export.suppression_threshold
    if threshold < 1:
        print("Reach problem: --threshold must be at least 1", file=sys.stderr)
        return 2
    datasets = Datasets(app.database)
    known = [c.cycle_id for c in await datasets.cycles()]
    if args.cycle not in known:
        print(
            f"Reach problem: --cycle: no sessions belong to cycle '{args.cycle}'; cycles with "
            f"sessions: {', '.join(known) or 'none yet'}",
            file=sys.stderr,
        )
        return 2
    language = app.settings.content.language
    if language not in app.library.profiles:
        print(
            f"Reach problem: there are no profile questions in '{language}'; add "
            f"prompts/profile/{language}.toml (see 'dialogue content check')",
            file=sys.stderr,
        )
        return 2
    # The cycle's one decision for every public output: what one hides, the others hide too.
    disclosure, made = await published.cycle_disclosure(
        datasets, app.library, args.cycle, language, threshold, app.pseudonymiser
    )
    if made is None:
        return 2
    page = reach_render.text(made(disclosure, lambda s: s.session_id))
    try:
        disclosure.check("The reach report")
    except DisclosureError as failed:
        print(f"Reach problem: {failed}", file=sys.stderr)
        return 1
    print(page)
    return 0
