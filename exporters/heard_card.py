"""The "what we heard" draft: a cycle's summary as a resource card that staff edit.

Quotes are the card's numbered statements, so the next cycle's prompts can quote them as
``{{heard:heard-CYCLE#N}}`` (see ``bot.content.heard``). Only replies whose authors agreed to
``quote`` appear, redacted as a public export is (``exporters.redact``), and the card never
says who said what. A person who withdraws is taken out of every draft already written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from bot.content.check import Library
from bot.content.heard import QUOTE_MARKS, STATEMENT
from bot.content.models import Step
from bot.private_files import private_file
from bot.texts import Catalogue
from exporters.redact import Redactor
from storage.cycles import CycleRecord
from storage.heard import DraftedQuote, Heard

CARD_PREFIX = "heard-"
log = logging.getLogger(__name__)


def card_id(cycle_id: str) -> str:
    """The id of a cycle's "what we heard" card."""
    return f"{CARD_PREFIX}{cycle_id}"


def draft(
    cycle: CycleRecord,
    heard: Heard,
    library: Library,
    texts: Catalogue,
    language: str,
    redact: Redactor,
) -> str:
    """The Markdown card (YAML header, then body) for ``cycle``, quotes redacted."""

    def t(key: str, **params: object) -> str:
        return texts.get(language, key, **params)

    size = {"sessions": heard.sessions, "groups": heard.groups, "title": cycle.title}
    header = {
        "id": card_id(cycle.id),
        "version": "draft",
        "title": t("heard.title", title=cycle.title),
        "summary": t("heard.summary", **size),
        "language": language,
        "cycle": cycle.id,
    }
    lines = [t("heard.intro", theme=cycle.theme or cycle.title, **size), ""]
    if heard.quotes:
        lines += [f"## {t('heard.said')}", ""]
        lines += [f"{n}. “{_quoted(q.text, redact)}”" for n, q in enumerate(heard.quotes, start=1)]
        lines.append("")
    if heard.tallies:
        lines.append(f"## {t('heard.answered')}")
        shown: tuple[str | None, str] | None = None
        for tally in heard.tallies:
            # As people saw them; the files' wording only where no version was kept.
            step = _step(library, tally.script_id, tally.step_id)
            if shown != (tally.script_id, tally.step_id):
                shown = (tally.script_id, tally.step_id)
                question = tally.question or (step.text if step else tally.step_id)
                lines += ["", f"**{_one_line(question)}**"]
            choices = step.choices() if step else ()
            label = tally.label or (
                choices[tally.option - 1] if 0 < tally.option <= len(choices) else tally.option
            )
            lines.append(t("heard.option", option=label, votes=tally.votes))
        lines.append("")
    if heard.counts:
        lines += [f"## {t('heard.replies')}", ""]
        numbers: dict[int, int] = {}
        for count in heard.counts:
            number = numbers.setdefault(count.group_id, len(numbers) + 1)
            group = count.group_title or t("heard.group", number=number)
            lines.append(
                t(
                    "heard.reply_count",
                    group=group,
                    step=count.step_id,
                    replies=count.replies,
                    people=count.people,
                )
            )
    front = yaml.safe_dump(header, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n" + "\n".join(lines).strip() + "\n"


def write_draft(folder: Path, cycle: CycleRecord, text: str) -> Path | None:
    """Write ``folder/heard-CYCLE.md``; None if that file exists (staff's edits win)."""
    path = folder / f"{card_id(cycle.id)}.md"
    try:
        private_file(path, new=True)
    except FileExistsError:
        return None
    path.write_text(text, encoding="utf-8")
    return path


def withdraw(
    folder: Path, drafted: Iterable[DraftedQuote], redact: Redactor, removed: str
) -> list[Path]:
    """Replace the statements that quote a withdrawn person in every draft; the files changed.

    A statement is found by its text as drafted; one staff reworded is found by its number
    (a wrong guess takes out someone else's quote, never leaves this person's in). The line
    stays, so later statements keep their numbers and ``{{heard:CARD#N}}`` still points right.
    """
    by_cycle: dict[str, list[DraftedQuote]] = {}
    for quote in drafted:
        by_cycle.setdefault(quote.cycle_id, []).append(quote)
    changed = []
    for cycle_id, quotes in by_cycle.items():
        path = folder / f"{card_id(cycle_id)}.md"
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        found = list(STATEMENT.finditer(text))
        spans = set()
        for quote in quotes:
            wanted = _quoted(quote.text, redact).strip(QUOTE_MARKS)
            same = [m for m in found if m["text"].strip(QUOTE_MARKS) == wanted]
            if not same and 0 < quote.number <= len(found):
                log.warning(
                    "a withdrawn quote was reworded; check the draft", extra={"kind": "heard"}
                )
                same = [found[quote.number - 1]]
            spans |= {m.span("text") for m in same}
        for start, end in sorted(spans, reverse=True):
            text = text[:start] + removed + text[end:]
        if spans:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def _quoted(text: str, redact: Redactor) -> str:
    return _one_line(redact(text)[0])


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _step(library: Library, script_id: str | None, step_id: str) -> Step | None:
    script = library.scripts.get(script_id or "")
    index = script.index_of(step_id) if script else None
    return script.steps[index] if script is not None and index is not None else None
