"""Files and folders only their owner can read (0600 and 0700), whatever the umask.

The ``dialogue`` command also sets a umask of 077 at start, which covers what libraries create
on their own (SQLite's side files, for one); these helpers cover code that calls the exporters
or the storage as a library, with the usual umask of 022.
"""

from __future__ import annotations

import os
from itertools import takewhile
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
PRIVATE_UMASK = 0o077


def private_folder(path: Path) -> Path:
    """Create ``path`` and its missing parents as 0700 folders; existing ones are left alone."""
    missing = list(takewhile(lambda p: not p.exists(), (path, *path.parents)))
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
        # mkdir's mode passes through the umask, which may allow less, never more.
        folder.chmod(PRIVATE_FOLDER)
    return path


def private_file(path: Path, *, new: bool = False) -> Path:
    """Create ``path`` empty with mode 0600 (in a private folder), for a writer to fill.

    Whoever then opens it for writing keeps that mode. An existing file is left as it is,
    unless ``new`` asks for a file that must not exist yet (``FileExistsError`` then).
    """
    private_folder(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        os.close(os.open(path, flags, PRIVATE_FILE))
    except FileExistsError:
        if new:
            raise
    return path
