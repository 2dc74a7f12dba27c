"""``dialogue init DIR``: a deployment folder with a settings file and content of its own.

The folder gets a copy of the sample content shipped with the package (scripts, consent
text, profile questions, cards, the example baseline) and ``dialogue.toml``, the settings
file with every default written out; ``dialogue`` run inside the folder reads it by itself.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from bot.content.sample import SAMPLE_ROOT
from bot.settings import DEFAULT_CONFIG, ConfigError

CONTENT = ("prompts", "resources")


def run(args: argparse.Namespace) -> int:
    """Make the folder; refuses to touch one that already holds files."""
    folder: Path = args.folder
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ConfigError(
            f"{folder.resolve()}: already exists and is not an empty folder; "
            "give `dialogue init` a new folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for name in CONTENT:
        shutil.copytree(SAMPLE_ROOT / name, folder / name)
    shutil.copyfile(SAMPLE_ROOT / "config.example.toml", folder / DEFAULT_CONFIG)
    print(
        f"Made {folder}: {DEFAULT_CONFIG} (settings), prompts/ and resources/ (sample content "
        f"to edit).\nNext: cd {folder} && dialogue content check && dialogue run --demo"
    )
    return 0
