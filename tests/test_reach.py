"""The reach report: figures worked out by hand, small cells suppressed, and the HTML report."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import html as lxml_html
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli.main import main
from bot.content.check import Library
from bot.content.profile import ProfileQuestions
from exporters import reach_render
from exporters.dataset import ExportError, ExportOptions, export_dataset
from exporters.reach import Inequality, ReachReport, compute, gini, top_share
from storage.datasets import Datasets
from storage.db import make_engine, upgrade
from storage.reach import CycleReach, SessionReplies, cycle_reach
from storage.repositories import Repository
from tests.support.capture import STORE_KEY
from tests.support.cli import write_config
from tests.support.disclosure import hide_only_small_counts
from tests.support.export_cycle import KEY, LIBRARY
from tests.support.reach_cycle import GA, QUESTIONS, T0, baseline, captures


def by_session_id(session: SessionReplies) -> str:
    return session.session_id


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(migrated_url)
    await Repository(engine, STORE_KEY).apply(captures())
    yield engine
    await engine.dispose()


# Worked out by hand from tests/support/reach_cycle.py, threshold 5 (no count there is from 1 to 4):
#
# People in c1: p00-p29 = 30 (p99 spoke only in c0). With the profile consent: p00-p24 = 25;
# without: p25-p29 = 5 (p25's leftover answer is ignored).
#
# Age, among the 25: Under 40 p00-p14 = 15; 40 or over p15-p19 = 5; prefer not to say
# p20-p24 = 5; not answered 0. Answered 15 + 5 = 20.
#   shares 15/20 = 75.0%, 5/20 = 25.0%; area 50%, 50%; ratios 1.5 and 0.5 (< 0.8: under).
#   gap = (|75 - 50| + |25 - 50|) / 2 = 25.0 points (>= 10: a wide gap).
# Ethnic group (report values are the headings): Asian = Bangladeshi 3 + Indian 3 = 6;
# Black 0; White = White British 9 (p06-p14) + Other White 5 (p15-p19) = 14; Other 0;
# skipped p20-p24 = 5. Answered 20.
#   shares 30.0, 0.0, 70.0, 0.0; area 25, 20, 45, 10; ratios 1.2, 0.0, 1.556, 0.0.
#   gap = (5 + 20 + 25 + 10) / 2 = 30.0 points.
# Taken part before (no baseline): Yes 10, No 10; not answered: p20-p21 skipped, p22-p24
# never asked = 5. Shares 50.0 and 50.0, no ratio, no gap.
# Most under-represented: ratio 0.0 twice (Black, area 20%, before Other, area 10%), then
# 40 or over at 0.5.
#
# Sessions: s-a has 20 people: four wrote 6 replies, twelve wrote 1, four only voted (0).
#   Replies 4*6 + 12 = 36. Sorted up: ranks 1-4 are 0, ranks 5-16 are 1, ranks 17-20 are 6:
#   sum(rank * x) = (5 + ... + 16) + 6 * (17 + ... + 20) = 126 + 6 * 74 = 570.
#   Gini = 2 * 570 / (20 * 36) - 21 / 20 = 19/12 - 21/20 = 8/15 = 0.5333.
#   Top fifth: 4 people wrote 24 of 36 replies = 66.67%.
# s-b has 10 people with 2 replies each: Gini 0; top fifth 2 people, 4 of 20 = 20.0%.
# s-c has nobody: no Gini, no share.
# Median over the 2 sessions with replies: Gini (8/15 + 0) / 2 = 4/15 = 0.2667; top fifth
# (66.67 + 20) / 2 = 43.33%.
async def test_reach_report_matches_the_figures_worked_out_by_hand(engine: AsyncEngine) -> None:
    data = await cycle_reach(engine, "c1")
    report = compute(data, QUESTIONS, baseline(), "c1", 5, by_session_id)

    assert (report.participants, report.with_profile, report.without_profile) == (30, 25, 5)
    age, ethnic, before = report.categories
    assert [(v.value, v.count, v.share, v.baseline) for v in age.values] == [
        ("Under 40", 15, 75.0, 50.0),
        ("40 or over", 5, 25.0, 50.0),
    ]
    assert [v.ratio for v in age.values] == [1.5, 0.5]
    assert (age.answered, age.prefer_not, age.not_answered, age.gap) == (20, 5, 0, 25.0)
    assert [(v.value, v.count, v.share) for v in ethnic.values] == [
        ("Asian", 6, 30.0),
        ("Black", 0, 0.0),
        ("White", 14, 70.0),
        ("Other", 0, 0.0),
    ]
    assert [v.ratio for v in ethnic.values] == pytest.approx([1.2, 0.0, 14 / 9, 0.0])
    assert (ethnic.answered, ethnic.prefer_not, ethnic.not_answered) == (20, 0, 5)
    assert ethnic.gap == pytest.approx(30.0)
    assert [(v.value, v.count, v.share, v.ratio) for v in before.values] == [
        ("Yes", 10, 50.0, None),
        ("No", 10, 50.0, None),
    ]
    assert (before.not_answered, before.gap, before.highlighted) == (5, None, False)
    assert age.highlighted and ethnic.highlighted
    assert [(c.label, v.value) for c, v in report.most_under] == [
        ("Ethnic group", "Black"),
        ("Ethnic group", "Other"),
        ("Age group", "40 or over"),
    ]
    assert [v.under for v in ethnic.values] == [False, True, False, True]

    s_a, s_b, s_c = report.sessions
    assert (s_a.label, s_a.people, s_a.replies) == ("s-a", 20, 36)
    assert s_a.gini == pytest.approx(8 / 15)
    assert s_a.top_share == pytest.approx(200 / 3)
    assert (s_b.people, s_b.replies, s_b.gini, s_b.top_share) == (10, 20, 0.0, 20.0)
    assert (s_c.people, s_c.replies, s_c.gini, s_c.top_share) == (0, 0, None, None)
    assert report.summary is not None
    assert report.summary.sessions == 2
    assert report.summary.gini == pytest.approx(4 / 15)
    assert report.summary.top_share == pytest.approx(130 / 3)
    assert not report.example


@pytest.mark.parametrize(
    ("counts", "expected_gini", "expected_top"),
    [
        ((5,), 0.0, 100.0),
        ((1, 1, 1, 1), 0.0, 25.0),
        ((4, 0, 0, 0), 0.75, 100.0),  # (n - 1) / n: one person wrote everything
        ((3, 1), 0.25, 75.0),  # 2 * (1*1 + 2*3) / (2 * 4) - 3/2 = 1.75 - 1.5
        ((0, 0), None, None),
        ((), None, None),
    ],
)
def test_gini_and_top_fifth_on_small_cases_done_by_hand(
    counts: tuple[int, ...], expected_gini: float | None, expected_top: float | None
) -> None:
    assert gini(counts) == expected_gini
    assert top_share(counts) == expected_top


def test_top_fifth_takes_a_fifth_of_the_people_rounded_up() -> None:
    # 11 people: a fifth is 2.2, so the 3 most active count.
    counts = (10, 9, 8, *([1] * 8))
    assert top_share(counts) == pytest.approx(100 * 27 / 35)
    assert math.isclose(top_share((2,) * 10) or 0, 20.0)
    # 15 people: exactly 3, although 15 * 0.2 is a hair over 3 in floating point.
    assert top_share((5, 4, 3, *([1] * 12))) == pytest.approx(100 * 12 / 24)


AGE_ONLY = ProfileQuestions(language="en", version="1", questions=(QUESTIONS.questions[0],))


def small_cycle() -> CycleReach:
    # 24 people: 4 without the profile; of the 20 with it, 13 under 40, 3 over, 4 not asked.
    people = [None] * 4 + [{"age": "Under 40"}] * 13 + [{"age": "40 or over"}] * 3 + [{}] * 4
    session = SessionReplies("s-1", GA, T0, (3, 2, 1, 1))
    return CycleReach(people=tuple(people), sessions=(session,))


def test_small_cells_are_suppressed_and_so_is_whatever_would_give_them_away() -> None:
    # Threshold 10. Counts from 1 to 9 are hidden: without the profile (4), 40 or over (3),
    # not answered (4). Then each sum with exactly one hidden part hides one more:
    #   people 24 = profile 20 + without 4*      -> hide profile (not the total)
    #   answered 16 = under 40 13 + 40 or over 3* -> hide under 40
    #   profile 20* = answered 16 + prefer 0 + not answered 4*: two hidden already.
    # That is not enough: from people 24, without = 24 - profile and not answered =
    # profile - 16, both from 1 to 9, so not answered = 8 - without is from 1 to 7: narrower
    # than "fewer than 10" says. The audit hides answered too.
    # Shown: people 24, prefer 0. No share can be shown without its count.
    report = compute(small_cycle(), AGE_ONLY, baseline(), "c1", 10, by_session_id)
    assert (report.participants, report.with_profile, report.without_profile) == (24, None, None)
    (age,) = report.categories
    assert [(v.count, v.share, v.ratio, v.under) for v in age.values] == [
        (None, None, None, False),
        (None, None, None, False),
    ]
    assert (age.answered, age.prefer_not, age.not_answered, age.gap) == (None, 0, None, None)
    assert report.most_under == []
    (session,) = report.sessions
    assert (session.people, session.replies) == (None, None)  # 4 people, 7 replies
    assert session.gini is None  # the spread of 4 people's replies would describe them

    shown = reach_render.text(report)
    labels = ("Under 40", "40 or over", "prefer not to say", "not answered")
    rows = {
        label: line[len(label) + 2 :].split()[0]
        for line in shown.splitlines()
        for label in labels
        if line.startswith(f"  {label} ")
    }
    assert rows == {
        "Under 40": "*",
        "40 or over": "*",
        "prefer not to say": "0",
        "not answered": "*",
    }
    assert "did not: *" in shown and "s-1      *       *" in shown
    assert reach_render.hidden_note(report) in shown


def test_with_a_lower_threshold_the_same_cells_are_shown() -> None:
    report = compute(small_cycle(), AGE_ONLY, baseline(), "c1", 3, by_session_id)
    (age,) = report.categories
    assert [v.count for v in age.values] == [13, 3]
    assert (report.with_profile, report.without_profile, age.not_answered) == (20, 4, 4)


def example_library() -> Library:
    return Library(
        scripts=LIBRARY.scripts,
        cards=LIBRARY.cards,
        profiles={"en": QUESTIONS},
        baseline=baseline("EXAMPLE: made up"),
    )


def marks(figure: lxml_html.HtmlElement, kind: str = "mark") -> list[lxml_html.HtmlElement]:
    """The chart's drawn values (class "mark"), or those of one more class such as suppressed."""
    found: list[lxml_html.HtmlElement] = figure.xpath(".//svg//*[contains(@class, 'mark')]")
    return [m for m in found if kind in m.get("class", "").split()]


async def export_report(engine: AsyncEngine, out: Path, profile: str, threshold: int = 5) -> str:
    now = T0 + timedelta(days=9)
    options = ExportOptions(out, "c1", "t", now, profile=profile, threshold=threshold)
    result = await export_dataset(Datasets(engine), example_library(), KEY, options)
    return (result.folder / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("profile", ["research", "public"])
async def test_the_cycle_report_shows_the_reach_chart_and_says_the_baseline_is_an_example(
    profile: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    page = lxml_html.fromstring(await export_report(engine, tmp_path / profile, profile))
    figures = {f.get("data-chart"): f for f in page.xpath('//section[@class="reach"]//figure')}
    assert set(figures) == {"reach-age", "reach-ethnic", "reach-before", "reach-inequality"}
    # One bar per answer for the participants and one for the area (none withheld at 5).
    titles = [t.text for m in marks(figures["reach-age"]) for t in m.xpath("title")]
    assert titles == [
        "Under 40: participants: 75",
        "Under 40: area: 50",
        "40 or over: participants: 25",
        "40 or over: area: 50",
    ]
    assert len(marks(figures["reach-ethnic"])) == 8
    assert len(marks(figures["reach-before"])) == 2
    banner = page.xpath('/html/body/div[@class="example-baseline"]')
    assert [b.text_content() for b in banner] == [reach_render.EXAMPLE_WARNING]
    assert page.body.index(banner[0]) == 0  # first on the page, and fixed on every printed page
    assert "position: fixed" in page.xpath("//style")[0].text
    rows = page.xpath('//section[@class="reach"]//tr[@class="most-under"]/td[1]')
    assert [r.text_content() for r in rows] == ["40 or over", "Black", "Other"]


async def test_the_report_draws_withheld_reach_bars_as_withheld(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    report = await export_report(engine, tmp_path / "out", "public", threshold=10)
    page = lxml_html.fromstring(report)
    (age,) = page.xpath('//figure[@data-chart="reach-age"]')
    # 40 or over (5 people) is under 10; Under 40 (15) is hidden too, or it would give the
    # other away from the 20 who answered. The area's two bars stay.
    assert len(marks(age, "suppressed")) == 2
    assert len(marks(age)) == 4


async def test_without_profile_questions_the_report_has_no_reach_section(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    options = ExportOptions(out=tmp_path / "r", cycle_id="c1", made_by="t", now=T0)
    result = await export_dataset(Datasets(engine), LIBRARY, KEY, options)
    page = (result.folder / "report.html").read_text(encoding="utf-8")
    assert '<section class="reach"' not in page and '<div class="example-baseline"' not in page


@pytest.fixture
def config(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DIALOGUE_PSEUDONYM_KEY", "reach-test-key-0123456789")
    return write_config(tmp_path / "config.toml", sqlite_url)


async def _fill(sqlite_url: str) -> None:
    await upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        await Repository(engine, STORE_KEY).apply(captures())
    finally:
        await engine.dispose()


def test_dialogue_reach_prints_the_table_with_the_export_threshold(
    config: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_fill(sqlite_url))
    assert main(["--config", str(config), "reach", "--cycle", "c1"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == reach_render.EXAMPLE_WARNING and lines[-1] == reach_render.EXAMPLE_WARNING
    # Under the default threshold of 10, the 5 without the profile are withheld, and so the
    # 25 with it (30 - 25 would give them away).
    assert "cycle c1: 30 (agreed to the profile questions: *; did not: *)." in out
    assert "  s-a      20      36       0.53  66.7%" in out
    assert (
        "Median over 2 sessions: Gini 0.27; the most active fifth wrote 43.3% of the replies."
        in out
    )


def test_dialogue_reach_names_the_cycles_it_knows_when_given_another(
    config: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_fill(sqlite_url))
    assert main(["--config", str(config), "reach", "--cycle", "c9"]) == 2
    err = capsys.readouterr().err
    assert "--cycle: no sessions belong to cycle 'c9'; cycles with sessions: c0, c1" in err


def test_dialogue_reach_prints_nothing_when_the_audit_fails_and_tells_staff_why(
    config: Path,
    sqlite_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asyncio.run(_fill(sqlite_url))
    hide_only_small_counts(monkeypatch)
    assert main(["--config", str(config), "reach", "--cycle", "c1"]) == 1
    printed = capsys.readouterr()
    assert printed.out == ""
    # The 5 without the profile, hidden beside the 30 people and 25 with it, are pinned down.
    assert printed.err.startswith("Reach problem: The reach report was not published: ")
    assert "can be worked out to lie between 5 and 5" in printed.err


async def test_a_public_export_that_fails_the_audit_leaves_no_file_and_says_why(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_only_small_counts(monkeypatch)
    with pytest.raises(ExportError, match="The public export was not published: the hidden"):
        await export_report(engine, tmp_path / "out", "public", threshold=10)
    assert not (tmp_path / "out").exists()


def test_a_session_whose_people_are_hidden_is_drawn_hidden_never_as_having_no_replies() -> None:
    sessions = (Inequality("s-few", None, 16, None, None), Inequality("s-none", 0, 0, None, None))
    report = ReachReport("c1", 10, 57, 46, 11, (), sessions, None, False, False)
    page = lxml_html.fromstring(reach_render.html(report))
    (chart,) = page.xpath('//figure[@data-chart="reach-inequality"]')
    labels = [t.text for t in chart.xpath(".//svg/text")]
    assert labels[1::2] == ["hidden", "no replies"]
