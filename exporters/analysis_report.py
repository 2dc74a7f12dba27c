"""The report's "Opinion groups" and "Themes" sections, drawn from the export's analyses.

Group sizes and theme counts are read through the export's one ``Disclosure`` (the same
ledger settles them as the tables), statements and themes are shown by their text, and a
theme's quotes are those ``exporters.themes`` picked: redacted, from people who agreed to be
quoted. A section with nothing to show is empty, and the report leaves it out.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from exporters.charts import Hidden, Value
from exporters.disclosure import Disclosure
from exporters.learning import Words, counted
from exporters.opinion import OpinionGroups, Pick
from exporters.report import Chart, direction, drawn, templates
from exporters.themes import Theme


def _number(value: Value) -> str:
    """A count in a sentence: the number, or how the policy describes it hidden."""
    return value.label if isinstance(value, Hidden) else f"{value or 0:g}"


def _renamed(theme: Theme) -> bool:
    """Whether staff named the theme (``exporters.themes`` names it by its words)."""
    return theme.name != " ".join(theme.words)


def title(theme: Theme) -> str:
    """A theme's heading: staff's name for it, or else its distinctive words."""
    return theme.name if _renamed(theme) else ", ".join(theme.words)


def _statements(picks: Sequence[Pick], lean: str, say: Words) -> list[tuple[str, str]]:
    """Each picked statement's text, with how the people it is picked for voted on it."""
    return [(p.statement.text, say(f"report.{lean}_{p.direction}")) for p in picks]


def opinion_groups(found: OpinionGroups, disclosure: Disclosure, say: Words) -> Markup:
    """Each opinion group with its size and the statements that set it apart, then the shared."""
    if not found.groups:
        return Markup("")
    sizes = [(say("report.opinion_group", number=g.number), g) for g in found.groups]
    chart = Chart(
        "opinion-groups",
        say("report.opinion_sizes"),
        say("report.opinion_sizes_caption"),
        [(name, [counted(disclosure, g.size, say)]) for name, g in sizes],
        heading=say("report.opinion_group_heading"),
    )
    groups = [
        (
            name,
            say("report.opinion_placed", people=_number(counted(disclosure, g.size, say))),
            _statements(g.representative, "apart", say),
        )
        for name, g in sizes
    ]
    return Markup(
        templates()
        .get_template("analysis.html")
        .module.opinion(  # type: ignore[attr-defined]
            say("report.opinion_intro"),
            (chart, drawn(chart, direction(say.language))),
            groups,
            say("report.opinion_shared"),
            _statements(found.consensus, "shared", say),
        )
    )


def themes(found: Sequence[Theme], disclosure: Disclosure, say: Words) -> Markup:
    """Each theme by its name, its distinctive words, its counts, and its quotes."""
    if not found:
        return Markup("")
    numbers = [[counted(disclosure, key, say) for key in t.keys()] for t in found]
    chart = Chart(
        "themes",
        say("report.theme_counts"),
        say("report.theme_counts_caption"),
        [(title(t), cells) for t, cells in zip(found, numbers, strict=True)],
        series=(say("report.theme_people"), say("report.theme_replies")),
        heading=say("report.theme_heading"),
    )
    shown = [
        (
            title(t),
            say("report.theme_words", words=", ".join(t.words)) if _renamed(t) else "",
            say("report.theme_wrote", people=_number(people)),
            t.quotes,
        )
        for t, (people, _) in zip(found, numbers, strict=True)
    ]
    return Markup(
        templates()
        .get_template("analysis.html")
        .module.themes(  # type: ignore[attr-defined]
            say("report.themes_intro"), (chart, drawn(chart, direction(say.language))), shown
        )
    )
