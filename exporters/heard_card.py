"""The "what we heard" draft: a cycle's summary as a resource card that staff edit.

Quotes are the card's numbered statements, so the next cycle's prompts can quote them as
``{{heard:heard-CYCLE#N}}`` (see ``bot.content.heard``). Only replies whose authors agreed to
``quote`` appear, redacted as a public export is (``exporters.redact``), and only answers to
prompts that say something (a few words, not a greeting); the card never says who said what,
and a person who withdraws is taken out of every draft already written. Every count goes
through the disclosure policy (``exporters.disclosure``), and questions and answers are named
by their text, as people saw them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml

from bot.content.check import Library
from bot.content.heard import QUOTE_MARKS, STATEMENT
from bot.content.models import Step
from bot.core.ids import GroupRef
from bot.private_files import private_file
from bot.texts import Catalogue
from exporters import aggregates as agg_
from exporters.disclosure import Disclosure, Key, Ledger
from exporters.redact import Redactor, one_line
from exporters.schema import ALL_GROUPS
from storage.cycles import CycleRecord
from storage.heard import DraftedQuote, Heard, Quote, Quoting, StepCount

CARD_PREFIX = "heard-"
log = logging.getLogger(__name__)
# A quote says something: a few words at least, and more than a greeting or a thank-you.
FEWEST_WORDS = 4
SMALL_TALK = re.compile(
    r"^\W*(?:(?:hi|hello|hey|morning|evening|thanks|thank you|cheers|bye|ok|okay|yes|no|"
    r"me too|agreed|same|lol|sorry|good|great|fine|all|everyone|folks|there)\W*)+$",
    re.IGNORECASE,
)


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
    disclosure: Disclosure,
) -> str:
    """The Markdown card (YAML header, then body) for ``cycle``, quotes redacted.

    ``heard.quotes`` are those to print (see ``chosen_quotes``); every count is read through
    ``disclosure``, the cycle's one decision for all its public outputs (see
    ``exporters.published``), in which ``register`` put the card's counts. Raises
    ``DisclosureError`` when the audit finds a hidden count given away.
    """

    def t(key: str, **params: object) -> str:
        return texts.get(language, key, **params)

    threshold = disclosure.threshold
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
    quotes = heard.quotes
    if quotes:
        lines += [f"## {t('heard.said')}", ""]
        lines += [f"{n}. “{_quoted(q.text, redact)}”" for n, q in enumerate(quotes, start=1)]
        lines.append("")
    if heard.answered:
        lines.append(f"## {t('heard.answered')}")
        for (script_id, step_id), (question, answers) in _answers(heard, library).items():
            lines += ["", f"**{one_line(question)}**"]
            ids = (script_id or "", step_id)
            if disclosure.is_small(_answered(ids)):
                lines.append(t("heard.answered_few", threshold=threshold))
                continue
            for label, _ in answers:
                key = _votes(ids, label)
                votes = disclosure.value(key)
                if votes is not None:
                    lines.append(t("heard.option", option=label, votes=votes))
                else:
                    small = disclosure.is_small(key)
                    hidden = "heard.option_hidden" if small else "heard.option_withheld"
                    lines.append(t(hidden, option=label, threshold=threshold))
        lines.append("")
    if heard.counts:
        lines += [f"## {t('heard.replies')}", ""]
        numbers: dict[int, int] = {}
        for count in heard.counts:
            number = numbers.setdefault(count.group_id, len(numbers) + 1)
            step = _step(library, count.script_id, count.step_id)
            where = {
                "group": t("heard.group", number=number),
                "step": one_line(step.text) if step else count.step_id,
            }
            people = disclosure.value(_people(count))
            replies = disclosure.value(_replies(count))
            if people is None or replies is None:
                few = disclosure.is_small(_people(count))
                hidden = "heard.reply_count_few" if few else "heard.reply_count_hidden"
                lines.append(t(hidden, threshold=threshold, **where))
            else:
                lines.append(t("heard.reply_count", replies=replies, people=people, **where))
    disclosure.check(f"The “what we heard” card of cycle {cycle.id}")
    front = yaml.safe_dump(header, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n" + "\n".join(lines).strip() + "\n"


def says_something(quote: Quote, library: Library) -> bool:
    """Whether a reply is worth quoting: an answer to a prompt, more than small talk."""
    return worth_quoting(_step(library, quote.script_id, quote.step_id), quote.text)


def worth_quoting(step: Step | None, text: str) -> bool:
    """Whether ``text``, a reply to ``step``, answers a prompt with more than small talk."""
    text = one_line(text)
    return (
        step is not None
        and step.kind == "prompt"
        and len(text.split()) >= FEWEST_WORDS
        and not SMALL_TALK.match(text)
    )


def _ids(count: StepCount) -> tuple[str, str]:
    return (count.script_id or "", count.step_id)


def chosen_quotes(heard: Heard, library: Library, max_quotes: int) -> tuple[Quote, ...]:
    """The quotes a card prints, numbered from 1 in this order: answers that say something."""
    return tuple(q for q in heard.quotes if says_something(q, library))[:max_quotes]


def quoting(library: Library, max_quotes: int) -> Quoting:
    """What ``storage.heard`` reads for a card: the quotes ``chosen_quotes`` would choose."""
    return Quoting(keep=lambda quote: says_something(quote, library), most=max_quotes)


Answers = dict[tuple[str | None, str], tuple[str, list[tuple[str, int]]]]


def _answers(heard: Heard, library: Library) -> Answers:
    """Each question answered: its text and every answer's label and votes, as people saw them.

    Answers no one chose are listed too, from the script as it is now.
    """
    found: Answers = {}
    for script_id, step_id in heard.answered:
        step = _step(library, script_id, step_id)
        choices = step.choices() if step else ()
        tallies = [v for v in heard.tallies if (v.script_id, v.step_id) == (script_id, step_id)]
        question = next((v.question for v in tallies if v.question), None)
        votes: dict[str, int] = {}
        for v in tallies:
            label = v.label or (
                choices[v.option - 1] if 0 < v.option <= len(choices) else str(v.option)
            )
            votes[label] = votes.get(label, 0) + v.votes
        for label in choices:
            votes.setdefault(label, 0)
        text = question or (step.text if step else step_id)
        found[(script_id, step_id)] = (text, list(votes.items()))
    return found


def register(
    ledger: Ledger, heard: Heard, library: Library, group: Callable[[GroupRef], str]
) -> None:
    """Put the card's counts in the cycle's ``ledger``, linked to the export's same counts.

    ``group`` names a group as the export's tables do, so a count the card shows and a table
    hides (or the other way round) is one count, hidden in both.
    """
    for count in heard.counts:
        step = _ids(count)
        code = group(count.group)
        ledger.alike(ledger.count(_people(count), count.people), agg_.participants(code, step))
        ledger.alike(ledger.count(_replies(count), count.replies), agg_.replies(code, step))
    for (script_id, step_id), (_, answers) in _answers(heard, library).items():
        step_ = _step(library, script_id, step_id)
        ids = (script_id or "", step_id)
        answered = heard.answered[(script_id, step_id)]
        # The people who answered are printed only as "fewer than t" (their question is then
        # withheld); otherwise not at all, though with one answer each the options add up.
        key = _answered(ids)
        small = 0 < answered < ledger.threshold
        total = ledger.count(key, answered) if small else ledger.unpublished(key, answered)
        choices = step_.choices() if step_ else ()
        cells = []
        for label, votes in answers:
            cell = ledger.count(_votes(ids, label), votes)
            if label in choices:
                ledger.alike(cell, agg_.votes(ALL_GROUPS, ids, choices.index(label) + 1))
            cells.append(cell)
        ledger.table(total, cells, adds_up=step_ is not None and not step_.multiple)


def _people(count: StepCount) -> Key:
    return ("heard", "people", str(count.group_id), *_ids(count))


def _replies(count: StepCount) -> Key:
    return ("heard", "replies", str(count.group_id), *_ids(count))


def _answered(ids: tuple[str, str]) -> Key:
    return ("heard", "answered", *ids)


def _votes(ids: tuple[str, str], label: str) -> Key:
    return ("heard", "votes", *ids, label)


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
    return one_line(redact(text)[0])


def _step(library: Library, script_id: str | None, step_id: str) -> Step | None:
    script = library.scripts.get(script_id or "")
    index = script.index_of(step_id) if script else None
    return script.steps[index] if script is not None and index is not None else None
