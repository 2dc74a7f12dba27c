"""The learning report across cycles: reach, participation per group and step, time against
the plan, and facilitators' reflections grouped by the question they answer."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import html as lxml_html

from bot.core.captures import ReflectionSaved
from bot.core.desk import Reflection
from bot.texts import Catalogue
from exporters import learning_report
from exporters.learning import Words
from storage.datasets import Datasets
from storage.db import make_engine, upgrade
from storage.repositories import Repository
from tests.support.capture import STORE_KEY
from tests.support.cli import dialogue, write_config
from tests.support.debian import chromium
from tests.support.export_cycle import ALICE, G1, G3, KEY, LIBRARY, T0, TITLES, cycle_captures

WELL_C0 = "Everyone spoke at least once"
WELL_C1 = "The cards helped the quiet ones"
HARD_C1 = "لم يكن هناك وقت كافٍ للسؤال المفتوح"  # Too little time for the open question


@pytest.fixture
async def datasets(database_url: str) -> AsyncIterator[Datasets]:
    """Cycles c0 and c1 of tests/support/export_cycle.py, with a reflection on a session of each."""
    await upgrade(database_url)
    engine = make_engine(database_url)
    repo = Repository(engine, STORE_KEY)
    for group, title in TITLES.items():
        await repo.set_group_title(group, title)
    earlier = T0 - timedelta(days=60)
    reflected = [
        Reflection("s-c0", G1, earlier, (WELL_C0, "", None)),
        Reflection("s-g3a", G3, T0, (WELL_C1, HARD_C1, None)),
    ]
    await repo.apply(
        [*cycle_captures(), *(ReflectionSaved(ALICE, r, r.asked_at) for r in reflected)]
    )
    yield Datasets(engine)
    await engine.dispose()


def _rows(page: lxml_html.HtmlElement, chart: str) -> dict[str, list[str]]:
    (figure,) = page.xpath(f'//figure[@data-chart="{chart}"]')
    return {
        row.xpath("th")[0].text_content(): [td.text_content() for td in row.xpath("td")]
        for row in figure.xpath(".//table/tbody/tr")
    }


async def _page(datasets: Datasets, public: bool) -> lxml_html.HtmlElement:
    say = Words(Catalogue.load())
    labels = {f"{G3.platform}:{G3.chat_id}": "Young residents"}
    cycles = await learning_report.gather(datasets, LIBRARY, KEY, public, 10, say, labels)
    return lxml_html.fromstring(learning_report.render(cycles, say, public))


async def test_the_learning_report_follows_each_cycle_and_groups_reflections_by_question(
    datasets: Datasets,
) -> None:
    page = await _page(datasets, public=False)
    cycles = {
        r.xpath("th")[0].text: [td.text for td in r.xpath("td")]
        for r in page.xpath("//header//tbody/tr")
    }
    assert cycles == {"c0": ["1 session", "1 group"], "c1": ["4 sessions", "3 groups"]}
    # Reach over cycles: Alice was new in c0 and is back in c1.
    assert _rows(page, "reach-over-cycles") == {"c0": ["1", "0"], "c1": ["16", "1"]}
    groups = _rows(page, "people-by-group-and-cycle")
    assert groups["Riverside tenants (c0)"] == ["1"]
    assert groups["Youth forum (c1)"] == ["13"]
    # Where people drop off: those who replied at each step, cycle by cycle.
    assert _rows(page, "people-by-step")["3. What matters most about your home?"] == ["1", "17"]
    # The card step overran its plan in both cycles (5 planned, 12 spent).
    assert _rows(page, "time-against-plan")["2. Please read this."] == ["5", "12", "12"]
    sections = page.xpath('//section[@id="reflections"]')[0]
    headings = [h.text_content() for h in sections.xpath("h3")]
    assert headings == ["What went well", "What was hard"]
    well = [li.text_content() for li in sections.xpath("h3[1]/following-sibling::ul[1]/li")]
    assert [w.split(" (")[0] for w in well] == [WELL_C0, WELL_C1]
    assert "(c1: Session" in well[1] and "Youth forum" in well[1]
    # Each answer reads in its own direction, isolated from the session named after it.
    answers = sections.xpath("h3/following-sibling::ul[1]/li/bdi[1]")
    assert [(a.text, a.get("dir")) for a in answers] == [
        (WELL_C0, "ltr"),
        (WELL_C1, "ltr"),
        (HARD_C1, "rtl"),
    ]


async def test_the_public_learning_report_withholds_small_counts_and_every_reflection(
    datasets: Datasets,
) -> None:
    page = await _page(datasets, public=True)
    text = page.text_content()
    assert not page.xpath('//section[@id="reflections"]')
    assert WELL_C0 not in text and HARD_C1 not in text
    assert "Riverside tenants" not in text and "Young residents (c1)" in text
    # c0 counts one person: fewer than 10, and so hidden the way the cycle's report hides it.
    assert _rows(page, "reach-over-cycles")["c0"] == ["withheld", "withheld"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_dialogue_report_learning_writes_the_report_into_a_new_folder(
    datasets: Datasets, database_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.toml", database_url)
    out = tmp_path / "learning"
    chromium()  # --pdf prints with it
    made = dialogue(config, "report", "--learning", "--out", str(out), "--pdf", timeout=180)
    assert made.returncode == 0, made.stderr
    assert (out / "learning.pdf").read_bytes().startswith(b"%PDF")
    page = lxml_html.parse(out / "learning.html").getroot()
    assert page.get("lang") == "en"
    assert "c1" in _rows(page, "reach-over-cycles")
    again = dialogue(config, "report", "--learning", "--out", str(out))
    assert again.returncode == 2 and "not an empty folder" in again.stderr
    bare = dialogue(config, "report")
    assert bare.returncode == 2 and "--learning --out FOLDER" in bare.stderr
