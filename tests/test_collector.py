"""The garbage collector's settings in the bot's started process (see storage.collector).

Each check runs in a fresh interpreter: the settings are the whole process's, and pytest's own
must stay as they are.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from storage.collector import YOUNG_THRESHOLD

ROOT = Path(__file__).resolve().parents[1]

STARTED_BOT = """
import asyncio, gc, sys
from bot.app import build
from bot.settings import Settings

async def main(url: str) -> None:
    before = gc.get_threshold()[0], gc.get_freeze_count()
    settings = Settings()
    settings.database.url = url
    settings.capture.writer_process = False
    app = await build(settings)
    try:
        print(*before, gc.get_threshold()[0], gc.get_freeze_count())
    finally:
        await app.close()

asyncio.run(main(sys.argv[1]))
"""


def test_a_started_bot_has_frozen_what_it_holds_and_collects_young_objects_less_often(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    done = subprocess.run(
        [sys.executable, "-c", STARTED_BOT, url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    young_before, frozen_before, young, frozen = map(int, done.stdout.split())
    assert (young_before, frozen_before) == (700, 0)  # Python's defaults, before it started
    assert young == YOUNG_THRESHOLD
    # The content, catalogues and modules loaded by then: tens of thousands of objects.
    assert frozen > 10_000
