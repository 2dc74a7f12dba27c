"""The cycle report's parts on their own: which charts it keeps, how it shows hidden counts and
zeros, plurals from the catalogue, and staff's Markdown."""

from pathlib import Path

from lxml import html as lxml_html

from bot.content.models import Step
from bot.texts import Catalogue
from exporters import aggregates as agg_
from exporters import report
from exporters.aggregates import Aggregates
from exporters.disclosure import Disclosure, Ledger
from exporters.learning import Words

STEP = ("housing", "statement")
SAY = Words(Catalogue.load())
BALLOT = Step(
    id="statement",
    kind="choice",
    text="Landlords should share repair records.",
    options=("Agree", "Disagree"),
)


def _page(threshold: int, ballot: Step | None = BALLOT) -> lxml_html.HtmlElement:
    """A cycle where five people agreed, none disagreed, and nobody wrote a reply.

    Without ``ballot`` the export does not know the step's answers, so the count of people who
    disagreed is never put in the ledger.
    """
    agg = Aggregates()
    for n in range(5):
        agg.vote("g1", STEP, f"p{n}", [1])
    return _render(agg, threshold, {STEP: ballot} if ballot else {})


def _render(
    agg: Aggregates, threshold: int, ballots: dict[tuple[str, str], Step]
) -> lxml_html.HtmlElement:
    ledger = Ledger(threshold)
    agg_.register(agg, ledger, ballots)
    ctx = report.ReportContext(
        title="Cycle report: c1",
        notice="",
        facts=[("Cycle", "c1 <i>pilot</i>")],
        group_names={"g1": "Riverside <b>tenants</b>"},
        step_labels={STEP: "4. Landlords should share repair records."},
        choices=[(k, b.text, tuple(b.choices())) for k, b in ballots.items()]
        or [(STEP, BALLOT.text, ("Agree", "Disagree"))],
        say=SAY,
    )
    return lxml_html.fromstring(report.render(agg, ctx, ledger.settle()))


def _cells(page: lxml_html.HtmlElement, chart: str) -> dict[str, list[str]]:
    (figure,) = page.xpath(f'//figure[@data-chart="{chart}"]')
    return {
        row.xpath("th")[0].text_content(): [td.text_content() for td in row.xpath("td")]
        for row in figure.xpath(".//tbody/tr")
    }


def test_charts_with_nothing_to_show_are_left_out_and_a_zero_reads_zero() -> None:
    page = _page(threshold=1)
    shown = {f.get("data-chart") for f in page.xpath("//figure")}
    # No replies: no chart of replies per day or per step; the answers are there.
    assert shown == {"people-by-group", "votes-housing-statement", "returning-participants"}
    assert _cells(page, "votes-housing-statement") == {"Agree": ["5"], "Disagree": ["0"]}
    titles = [h.text_content() for h in page.xpath("//h3")]
    assert "Landlords should share repair records." in titles
    # A group's name is text, never markup (the template escapes everything).
    assert _cells(page, "people-by-group") == {"Riverside <b>tenants</b>": ["5"]}
    assert "c1 <i>pilot</i>" in page.text_content()
    assert not page.xpath("//b | //i")


def test_hidden_counts_are_described_as_the_policy_decided() -> None:
    page = _page(threshold=10)
    # Five people took part: under 10, so new and returning are withheld whole, the zero too.
    assert _cells(page, "returning-participants") == {
        "New in this cycle": ["withheld"],
        "Took part in an earlier cycle": ["withheld"],
    }
    assert _cells(page, "people-by-group") == {"Riverside <b>tenants</b>": ["withheld"]}
    # A count hidden for being small says so.
    assert _cells(page, "votes-housing-statement")["Agree"] == ["fewer than 10"]


def test_a_count_the_ledger_never_registered_reads_withheld_never_zero() -> None:
    # Nobody checked the count of people who disagreed: printing "0" would publish an
    # unaudited number, in the public report and the research one alike.
    for threshold in (10, 1):
        cells = _cells(_page(threshold, ballot=None), "votes-housing-statement")
        assert cells["Disagree"] == ["withheld"], threshold
    assert Disclosure(10, {}, frozenset(), frozenset(), []).value(("votes", "all", "x")) is None


def test_a_scope_nobody_agreed_to_reads_zero_and_a_statement_nobody_answered_is_left_out() -> None:
    agg = Aggregates()
    for n in range(12):
        agg.consent("g1", frozenset({"participate"}))
        agg.vote("g1", STEP, f"p{n}", [1])
    unanswered = Step(id="sundays", kind="choice", text="Open on Sundays?", options=("Yes", "No"))
    ballots = {STEP: BALLOT, ("housing", "sundays"): unanswered}
    for threshold in (1, 10):
        page = _render(agg, threshold, ballots)
        assert _cells(page, "consent-rates") == {
            "Take part": ["100%"],
            "Be quoted": ["0%"],
            "Answer the profile questions": ["0%"],
            "Be contacted again": ["0%"],
        }
        assert not page.xpath('//figure[@data-chart="votes-housing-sundays"]')


def test_counts_take_the_catalogues_plural() -> None:
    texts = Catalogue.load()
    assert texts.plural("en", "report.sessions", 1) == "1 session"
    assert texts.plural("en", "report.sessions", 4) == "4 sessions"
    assert texts.plural("en", "report.minutes", 1.5) == "1.5 minutes"
    assert SAY.n("report.groups", 1) == "1 group"


def test_staff_markdown_is_rendered_with_its_html_shown_as_text(tmp_path: Path) -> None:
    (tmp_path / "heard.md").write_text(
        "## Housing\n\nRepairs came up *often*.\n\n<img src=x onerror=alert(1)>\n"
        "[a link](javascript:alert(1))\n",
        encoding="utf-8",
    )
    found = report.narrative(tmp_path)
    assert set(found) == {"heard"}
    html = str(found["heard"])
    assert '<h4 dir="auto">Housing</h4>' in html and "<em>often</em>" in html
    assert "<img" not in html and "&lt;img" in html
    assert 'href="javascript' not in html
