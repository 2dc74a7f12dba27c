"""The "what we heard" draft: a cycle's summary as a resource card that staff edit.

Quotes are the card's numbered statements, so the next cycle's prompts can quote them as
``{{heard:heard-CYCLE#N}}`` (see ``bot.content.heard``). Only replies whose authors agreed to
``quote`` appear, and only answers to prompts that say something (a few words, not a
greeting); the card never says who said what. Every count goes through the disclosure policy
(``exporters.disclosure``), and questions and answers are named by their text.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.content.check import Library
from bot.content.models import Step
from bot.texts import Catalogue
from exporters.disclosure import Disclosure, Ledger
from storage.cycles import CycleRecord
from storage.heard import Heard, Quote, StepCount

CARD_PREFIX = "heard-"
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
    threshold: int,
    max_quotes: int,
) -> str:
    """The Markdown card (YAML header, then body) for ``cycle``.

    Raises ``DisclosureError`` when the audit finds a hidden count given away.
    """

    def t(key: str, **params: object) -> str:
        return texts.get(language, key, **params)

    disclosure = _settle(heard, library, threshold)
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
    quotes = [q for q in heard.quotes if says_something(q, library)][:max_quotes]
    if quotes:
        lines += [f"## {t('heard.said')}", ""]
        lines += [f"{n}. “{_one_line(q.text)}”" for n, q in enumerate(quotes, start=1)]
        lines.append("")
    if heard.answered:
        lines.append(f"## {t('heard.answered')}")
        for script_id, step_id in heard.answered:
            step = _step(library, script_id, step_id)
            lines += ["", f"**{_one_line(step.text) if step else step_id}**"]
            if disclosure.is_small(("answered", script_id or "", step_id)):
                lines.append(t("heard.answered_few", threshold=threshold))
                continue
            for n, label in enumerate(step.choices() if step else (), start=1):
                key = ("votes", script_id or "", step_id, str(n))
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
                "step": _one_line(step.text) if step else count.step_id,
            }
            people = disclosure.value(("people", str(count.group_id), *_ids(count)))
            if people is None:
                lines.append(t("heard.reply_count_few", threshold=threshold, **where))
            else:
                lines.append(t("heard.reply_count", replies=count.replies, people=people, **where))
    disclosure.check(f"The “what we heard” card of cycle {cycle.id}")
    front = yaml.safe_dump(header, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n" + "\n".join(lines).strip() + "\n"


def says_something(quote: Quote, library: Library) -> bool:
    """Whether a reply is worth quoting: an answer to a prompt, more than small talk."""
    step = _step(library, quote.script_id, quote.step_id)
    text = _one_line(quote.text)
    return (
        step is not None
        and step.kind == "prompt"
        and len(text.split()) >= FEWEST_WORDS
        and not SMALL_TALK.match(text)
    )


def _ids(count: StepCount) -> tuple[str, str]:
    return (count.script_id or "", count.step_id)


def _settle(heard: Heard, library: Library, threshold: int) -> Disclosure:
    """The card's counts under the disclosure policy."""
    ledger = Ledger(threshold)
    for count in heard.counts:
        ledger.count(("people", str(count.group_id), *_ids(count)), count.people)
    votes = {(v.script_id or "", v.step_id, str(v.option)): v.votes for v in heard.tallies}
    for (script_id, step_id), people in heard.answered.items():
        step = _step(library, script_id, step_id)
        # The people who answered are printed only as "fewer than t" (their question is then
        # withheld); otherwise not at all, though with one answer each the options add up.
        key = ("answered", script_id or "", step_id)
        small = 0 < people < threshold
        total = ledger.count(key, people) if small else ledger.unpublished(key, people)
        cells = [
            ledger.count(("votes", script_id or "", step_id, str(n)), votes.get(key, 0))
            for n in range(1, len(step.choices()) + 1 if step else 1)
            if (key := (script_id or "", step_id, str(n)))
        ]
        ledger.table(total, cells, adds_up=step is not None and not step.multiple)
    return ledger.settle()


def write_draft(folder: Path, cycle: CycleRecord, text: str) -> Path | None:
    """Write ``folder/heard-CYCLE.md``; None if that file exists (staff's edits win)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{card_id(cycle.id)}.md"
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        return None
    return path


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _step(library: Library, script_id: str | None, step_id: str) -> Step | None:
    script = library.scripts.get(script_id or "")
    index = script.index_of(step_id) if script else None
    return script.steps[index] if script is not None and index is not None else None
