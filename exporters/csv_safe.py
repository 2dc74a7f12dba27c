"""Spreadsheet-safe CSV cells: text a spreadsheet would run as a formula is neutralised.

Excel and LibreOffice treat a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, after
some imports, a tab or a carriage return) as a formula, so a reply such as ``=HYPERLINK(...)``
would run when a researcher opens the CSV. As OWASP recommends ("CSV Injection"), such a cell
gets a single quote in front, which spreadsheets show as text and do not display; a plain
number (``-3``, ``+44``, ``1e5``) is left alone. Parquet is read by code, not spreadsheets, and
keeps the exact text.
"""

from __future__ import annotations

import re

RISKY_START = r"^[=+\-@\t\r]"  # also read by Arrow's RE2 to find the cells worth a look
_RISKY = re.compile(RISKY_START)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(cell: object) -> object:
    """The cell as a spreadsheet should see it: risky text gets a leading single quote."""
    if isinstance(cell, str) and _RISKY.match(cell) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell
