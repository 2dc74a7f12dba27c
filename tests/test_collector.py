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
from pathlib import Path
from bot.app import build
from bot.cli.run import RunOptions, run
from bot.settings import Settings

async def main(url: str, transcript: str) -> None:
    before = gc.get_threshold()[0], gc.get_freeze_count()
    settings = Settings()
    settings.database.url = url
    settings.capture.writer_process = False
    settings.schedule.enabled = False
    app = await build(settings)
    try:
        built = gc.get_threshold()[0], gc.get_freeze_count()
        await run(app, RunOptions(console_only=True, transcript=Path(transcript)))
        print("collector", *before, *built, gc.get_threshold()[0], gc.get_freeze_count())
    finally:
        await app.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def test_a_ready_bot_has_frozen_what_it_holds_and_collects_young_objects_less_often(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    transcript = tmp_path / "transcript.txt"
    transcript.write_text("facilitator: /help\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", STARTED_BOT, url, str(transcript)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    last = done.stdout.splitlines()[-1].split()
    assert last[0] == "collector", done.stdout
    young_before, frozen_before, young_built, frozen_built, young, frozen = map(int, last[1:])
    assert (young_before, frozen_before) == (700, 0)  # Python's defaults, before it started
    # Building the app (as every test that builds one in its own process does) leaves them;
    # the console's run settles them once its ready line is out.
    assert (young_built, frozen_built) == (700, 0)
    assert young == YOUNG_THRESHOLD
    # The content, catalogues and modules loaded by then: tens of thousands of objects.
    assert frozen > 10_000
