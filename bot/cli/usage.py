"""Usage mistakes on the command line: one message, "Usage problem: ...", and exit status 2.

``argparse`` reports its own mistakes through ``Parser.error``; the sub-commands raise
``UsageError`` for theirs (a malformed group, a disabled platform), so both read the same.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, NoReturn

from bot.platforms.registry import find, names

if TYPE_CHECKING:
    from bot.settings import Settings

USAGE_STATUS = 2


class UsageError(Exception):
    """A command typed wrongly, or asking for something the settings do not allow."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes read as usage problems, with the usage line."""

    def error(self, message: str) -> NoReturn:
        """Print the usage and the mistake, then exit with status 2."""
        self.print_usage(sys.stderr)
        self.exit(USAGE_STATUS, f"Usage problem: {self.prog}: {message}\n")


def require_platform(settings: Settings, platform: str, what: str) -> None:
    """Refuse ``what`` (e.g. "group add") for an unknown or disabled platform, in one sentence."""
    if find(platform) is None:
        known = ", ".join(names())
        raise UsageError(f"{what}: '{platform}' is not a platform; use one of {known}")
    if not settings.platform_section(platform).enabled:
        raise UsageError(
            f"{what}: the {platform} platform is disabled; set {platform}.enabled = true in the "
            "settings file to use it"
        )
