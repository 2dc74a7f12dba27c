"""The baseline: the area's population shares for the profile's categories (a CSV in resources/).

Each row is ``category,value,share,source,date``: a profile question's id, one of its report
values, the percentage of the area's population in it, the published table it was copied from,
and that table's date. A file whose sources start with ``EXAMPLE`` holds made-up figures: the
content check warns and every report says so until a deployment replaces it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints, ValidationError

from bot.content.load import read_text
from bot.content.models import Slug, Strict, Text
from bot.content.problems import Problem
from bot.content.profile import ProfileQuestions

FILE_NAME = "baseline.csv"
COLUMNS = ("category", "value", "share", "source", "date")
EXAMPLE_MARK = "EXAMPLE"


class BaselineRow(Strict):
    """One population share: ``share`` per cent of the area is ``value`` for ``category``."""

    category: Slug
    value: Text
    share: float = Field(ge=0, le=100)
    source: Text
    date: Annotated[str, StringConstraints(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")]
    # Decimal places the share was written with, for the rounding tolerance of its category.
    decimals: int = 0


@dataclass(frozen=True)
class Baseline:
    """The area's population shares, by category and value."""

    rows: tuple[BaselineRow, ...]

    @property
    def example(self) -> bool:
        """Whether the figures are a made-up example rather than a published table."""
        return any(row.source.startswith(EXAMPLE_MARK) for row in self.rows)

    def categories(self) -> tuple[str, ...]:
        """The categories, in file order."""
        return tuple(dict.fromkeys(row.category for row in self.rows))

    def shares(self, category: str) -> dict[str, float]:
        """Population share (per cent) by value for one category; empty if it has none."""
        return {row.value: row.share for row in self.rows if row.category == category}

    def sources(self, category: str) -> tuple[str, ...]:
        """Where one category's figures come from, as 'source (date)', once each."""
        cited = (f"{r.source} ({r.date})" for r in self.rows if r.category == category)
        return tuple(dict.fromkeys(cited))


def load_baseline(path: Path, problems: list[Problem]) -> Baseline | None:
    """The baseline from a CSV file, or None with every problem listed (line and column)."""
    text = read_text(path, problems)
    if text is None:
        return None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        problems.append(
            Problem(path, 1, "", f"the first line must name the columns: {','.join(COLUMNS)}")
        )
        return None
    rows: list[BaselineRow] = []
    failed = False
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(COLUMNS):
            problems.append(
                Problem(path, line, "", f"expected {len(COLUMNS)} columns, found {len(cells)}")
            )
            failed = True
            continue
        data = dict(zip(COLUMNS, (c.strip() for c in cells), strict=True))
        decimals = _decimals(data["share"])
        if decimals is None:
            problems.append(Problem(path, line, "share", "write the share as a number, e.g. 12.5"))
            failed = True
            continue
        try:
            rows.append(BaselineRow.model_validate({**data, "decimals": decimals}))
        except ValidationError as exc:
            failed = True
            for error in exc.errors():
                column = str(error["loc"][0]) if error["loc"] else ""
                message = str(error["msg"]).removeprefix("Value error, ")
                if column == "date":
                    message = "write the date of the figures as YYYY, YYYY-MM or YYYY-MM-DD"
                problems.append(Problem(path, line, column, message))
    return None if failed else Baseline(tuple(rows))


def _decimals(share: str) -> int | None:
    try:
        exponent = Decimal(share).as_tuple().exponent
    except InvalidOperation:
        return None
    # 'NaN' and 'Infinity' parse as decimals too, with a letter for an exponent.
    return -min(exponent, 0) if isinstance(exponent, int) else None


def tolerance(rows: Iterable[BaselineRow]) -> float:
    """How far a category's shares may sum from 100 through rounding alone.

    Each share written with d decimals is at most half a unit of its last place off.
    """
    return sum(0.5 * 10.0**-row.decimals for row in rows)


def baseline_problems(
    baseline: Baseline, path: Path, profiles: Iterable[ProfileQuestions]
) -> list[Problem]:
    """Shares that do not add up, and categories or values the profile questions lack."""
    problems: list[Problem] = []
    for category in baseline.categories():
        rows = [r for r in baseline.rows if r.category == category]
        total = sum(r.share for r in rows)
        if abs(total - 100) > tolerance(rows):
            problems.append(
                Problem(
                    path,
                    None,
                    category,
                    f"the shares add up to {total:g}%, not 100% (more than rounding explains); "
                    "copy every value of the published table",
                )
            )
        values = [r.value for r in rows]
        for value in sorted({v for v in values if values.count(v) > 1}):
            problems.append(Problem(path, None, category, f"'{value}' has more than one share"))
    for profile in profiles:
        problems += _matches(baseline, path, profile)
    if baseline.example:
        problems.append(
            Problem(
                path,
                None,
                "source",
                "these figures are an EXAMPLE, not your area's: replace them with shares copied "
                "from a published table (e.g. the 2021 census for your borough), with its source "
                "and date; until then every reach report says the comparison is an example",
                warning=True,
            )
        )
    return problems


def _matches(baseline: Baseline, path: Path, profile: ProfileQuestions) -> list[Problem]:
    problems: list[Problem] = []
    where = f"prompts/profile/{profile.language}.toml"
    for category in baseline.categories():
        question = profile.question(category)
        if question is None or not question.baseline:
            problems.append(
                Problem(
                    path,
                    None,
                    category,
                    f"no question with this id is compared with the baseline in {where}; "
                    f"use one of: {', '.join(q.id for q in profile.questions if q.baseline)}",
                )
            )
            continue
        shares = baseline.shares(category)
        expected = question.report_values()
        for value in shares:
            if value not in expected:
                problems.append(
                    Problem(
                        path,
                        None,
                        category,
                        f"'{value}' is not an answer of question '{category}' in {where}; "
                        f"use one of: {'; '.join(expected)}",
                    )
                )
        for value in expected:
            if value not in shares:
                problems.append(
                    Problem(
                        path,
                        None,
                        category,
                        f"'{value}' (an answer in {where}) has no share; add a row "
                        "(0 if the table has none)",
                    )
                )
    compared = set(baseline.categories())
    for question in profile.questions:
        if question.baseline and question.id not in compared:
            problems.append(
                Problem(
                    path,
                    None,
                    question.id,
                    f"question '{question.id}' in {where} has no population shares, so the reach "
                    "report cannot compare it; add its rows or set 'baseline = false'",
                    warning=True,
                )
            )
    return problems
