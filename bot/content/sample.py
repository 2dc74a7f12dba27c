"""Where the sample content shipped with the package lies (``bot/sample/``)."""

from __future__ import annotations

from pathlib import Path

# In a checkout these are links to the top-level prompts/ and resources/; an installed
# package holds copies of them.
SAMPLE_ROOT = Path(__file__).resolve().parents[1] / "sample"
