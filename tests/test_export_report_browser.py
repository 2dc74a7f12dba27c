"""The cycle report opened in real headless Chromium with the network off, checked by axe-core,
read at a desktop's and a phone's width, and printed to PDF by ``dialogue report --pdf``."""

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html
from playwright.sync_api import Browser, ConsoleMessage, Route, sync_playwright
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.check import Library
from bot.core.captures import Capture, ResponseCaptured
from exporters.dataset import ExportOptions, export_dataset
from storage.datasets import Datasets
from storage.db import make_engine, upgrade
from storage.repositories import Repository
from tests.support import analysis_cycle, arabic
from tests.support.capture import STORE_KEY
from tests.support.cli import dialogue, write_config
from tests.support.debian import FLAGS, arabic_fonts, chromium, npm_package, pdftotext
from tests.support.export_cycle import G1, KEY, LIBRARY, T0, TITLES, cycle_captures

CHARTS = {
    "people-by-group",
    "participation-by-step",
    "votes-housing-statement",
    "votes-housing-priority",
    "consent-rates",
    "replies-over-time",
    "time-per-step",
    "returning-participants",
}
SUMMARY = "# In short\n\nWe met **three** groups. <script>alert(1)</script>\n"
WIDTHS = (1280, 390)


async def _both_profiles(
    engine: AsyncEngine, library: Library, out: Path, **options: Any
) -> list[Path]:
    """The research and public reports of cycle c1, exported with ``options``."""
    found = []
    for profile in ("research", "public"):
        chosen = ExportOptions(
            out=out / profile, cycle_id="c1", made_by="tester", profile=profile, **options
        )
        result = await export_dataset(Datasets(engine), library, KEY, chosen)
        found.append(result.folder / "report.html")
    return found


async def _reports(url: str, out: Path) -> list[Path]:
    await upgrade(url)
    engine = make_engine(url)
    narrative = out / "narrative"
    (narrative / "c1").mkdir(parents=True)
    (narrative / "c1" / "summary.md").write_text(SUMMARY, encoding="utf-8")
    (narrative / "c1" / "worked.md").write_text("- Short steps\n- Cards sent early\n")
    try:
        repo = Repository(engine, STORE_KEY)
        for group, title in TITLES.items():
            await repo.set_group_title(group, title)
        await repo.apply(cycle_captures())
        return await _both_profiles(
            engine,
            LIBRARY,
            out,
            now=T0 + timedelta(days=10),
            threshold=3,
            group_labels={f"{G1.platform}:{G1.chat_id}": "Riverside (label)"},
            narrative=narrative,
        )
    finally:
        await engine.dispose()


@pytest.fixture
def reports(sqlite_url: str, tmp_path: Path) -> list[Path]:
    return asyncio.run(_reports(sqlite_url, tmp_path))


async def _analysis_reports(out: Path) -> list[Path]:
    """Research and public reports of a cycle with opinion groups and themes."""
    url = f"sqlite+aiosqlite:///{out}/analysis.db"
    await upgrade(url)
    engine = make_engine(url)
    try:
        await Repository(engine, STORE_KEY).apply(analysis_cycle.captures())
        now = analysis_cycle.T0 + timedelta(days=1)
        return await _both_profiles(engine, analysis_cycle.LIBRARY, out, now=now, threshold=5)
    finally:
        await engine.dispose()


@pytest.fixture
def every_report(reports: list[Path], tmp_path: Path) -> list[Path]:
    """The cycle's reports, and those of a cycle with opinion groups and themes."""
    (tmp_path / "analysis").mkdir()
    analysed = asyncio.run(_analysis_reports(tmp_path / "analysis"))
    for report in analysed:
        page = lxml_html.parse(report).getroot()
        assert page.xpath('//section[@id="opinion-groups"]//figure'), report
        assert page.xpath('//section[@id="themes"]//blockquote'), report
    return [*reports, *analysed]


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium()), args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def test_cycle_report_draws_every_chart_offline_without_errors(
    reports: list[Path], browser: Browser
) -> None:
    requests: list[str] = []
    problems: list[str] = []

    def only_files(route: Route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            requests.append(route.request.url)
            route.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    context = browser.new_context(offline=True)
    context.route("**/*", only_files)
    for report in reports:
        page = context.new_page()
        page.on("console", console)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(report.as_uri())
        drawn = page.eval_on_selector_all(
            "figure.chart",
            """figures => figures.map(f => [
                f.dataset.chart,
                [...f.querySelectorAll('svg .mark')].filter(m => {
                    const box = m.getBoundingClientRect();
                    return box.width > 0 && box.height > 0;
                }).length,
                f.querySelectorAll('table.data tbody tr').length,
            ])""",
        )
        assert {name for name, _, _ in drawn} - {"reach-inequality"} >= CHARTS, report
        assert all(marks > 0 for _, marks, _ in drawn), drawn
        # Every chart of the cycle's counts has its numbers as a table behind it.
        assert all(rows > 0 for name, _, rows in drawn if name in CHARTS), drawn
        assert page.title().startswith("Cycle report: c1")
        headings = page.eval_on_selector_all("h3", "hs => hs.map(h => h.textContent)")
        assert "Landlords should share repair records with tenants." in headings
        assert "In short" in headings  # staff's headings sit below their section's
        body = page.inner_text("body")
        assert "Learning report" in body
        # Staff's Markdown is included, its raw HTML shown as text, never run.
        assert "We met three groups. <script>alert(1)</script>" in body
        assert page.eval_on_selector_all("main script", "s => s.length") == 0
        assert "Short steps" in body
        # Every session showed every step up to the last before "close": nothing was skipped.
        assert "4 sessions ran in 3 groups: 3 ended by a facilitator" in body
        assert "skipped" not in body and "before its last step" not in body
        page.close()
    assert problems == []
    assert requests == []


def test_research_report_names_groups_and_the_public_one_only_their_labels(
    reports: list[Path],
) -> None:
    research, public = (lxml_html.parse(r).getroot().text_content() for r in reports)
    assert all(title in research for title in TITLES.values())
    assert "Riverside (label)" in public
    assert not any(title in public for title in TITLES.values())


def test_axe_finds_no_accessibility_violation_in_either_report(
    every_report: list[Path], browser: Browser
) -> None:
    axe = npm_package("axe-core", "4.10") / "axe.min.js"
    # The report's own policy allows no script: axe is let in for the check only.
    context = browser.new_context(offline=True, bypass_csp=True)
    found = {}
    for report in every_report:
        for width in WIDTHS:
            page = context.new_page()
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(report.as_uri())
            page.add_script_tag(path=str(axe))
            result = page.evaluate(
                """() => axe.run(document, {runOnly: {type: 'tag', values:
                    ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
                    .then(r => [r.violations.map(v => [v.id, v.nodes.length, v.help]),
                                r.passes.length])"""
            )
            violations, passes = result
            found[(str(report.parent), width)] = violations
            assert passes > 10  # axe ran its rules
            assert page.get_attribute("html", "lang") == "en"
            assert page.get_attribute("html", "dir") == "ltr"
            page.close()
    assert all(v == [] for v in found.values()), found


def test_every_label_is_readable_on_a_phone(every_report: list[Path], browser: Browser) -> None:
    for report in every_report:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(report.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        sizes = page.eval_on_selector_all(
            "figure.chart svg text",
            """texts => texts.map(t => [t.textContent,
                parseFloat(getComputedStyle(t).fontSize) *
                t.ownerSVGElement.getBoundingClientRect().width /
                t.ownerSVGElement.viewBox.baseVal.width,
                t.getBoundingClientRect().right <= 390])""",
        )
        assert sizes
        small = [(text, round(px, 1)) for text, px, _ in sizes if px < 12]
        assert small == [], report
        assert all(inside for _, _, inside in sizes), [t for t, _, inside in sizes if not inside]
        page.close()


def test_dialogue_report_prints_the_report_to_pdf(
    reports: list[Path], sqlite_url: str, tmp_path: Path
) -> None:
    chromium()
    config = write_config(tmp_path / "config.toml", sqlite_url)
    folder = reports[1].parent
    printed = dialogue(config, "report", str(folder), "--pdf", timeout=180)
    assert printed.returncode == 0, printed.stderr
    pdf = folder / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf.stat().st_mode & 0o077 == 0  # private, as every file of an export
    text = subprocess.run(
        [str(pdftotext()), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Landlords should share repair records" in text
    assert "Riverside (label)" in text
    missing = dialogue(config, "report", str(tmp_path / "nowhere"), "--pdf")
    assert missing.returncode == 2
    assert "there is no report here" in missing.stderr


# Each theme's quotable people write in Arabic or Urdu, naming the theme's words in English.
WRITTEN_IN = {"buses": arabic.PLAIN, "parks": arabic.URDU, "rents": arabic.NHS}
HEARD = f"> {arabic.URDU}\n\nOne grandmother told us: “{arabic.ENGLISH_QUOTE}”\n"


def _in_arabic(capture: Capture) -> Capture:
    """A quotable person's reply written in Arabic or Urdu, with their theme's words."""
    if not isinstance(capture, ResponseCaptured):
        return capture
    n = int(capture.person.user_id[1:])
    if not analysis_cycle.quotable(n):
        return capture
    words = analysis_cycle.reply_text(n).removeprefix("I think about the ").split(", the ")
    return replace(capture, text=f"{WRITTEN_IN[analysis_cycle.theme_of(n)]} {', '.join(words)}")


async def _arabic_reports(out: Path, language: str = "en") -> list[Path]:
    url = f"sqlite+aiosqlite:///{out}/arabic.db"
    await upgrade(url)
    engine = make_engine(url)
    narrative = out / "narrative"
    (narrative / "c1").mkdir(parents=True)
    (narrative / "c1" / "heard.md").write_text(HEARD, encoding="utf-8")
    try:
        captures = [_in_arabic(c) for c in analysis_cycle.captures()]
        await Repository(engine, STORE_KEY).apply(captures)
        now = analysis_cycle.T0 + timedelta(days=1)
        library = analysis_cycle.LIBRARY
        return await _both_profiles(
            engine, library, out, now=now, threshold=5, narrative=narrative, language=language
        )
    finally:
        await engine.dispose()


@pytest.fixture
def arabic_reports(tmp_path: Path) -> list[Path]:
    """Research and public reports quoting replies written in Arabic and Urdu."""
    return asyncio.run(_arabic_reports(tmp_path))


@pytest.fixture
def reports_in_arabic(tmp_path: Path) -> list[Path]:
    """The same reports in Arabic: the page reads right to left."""
    return asyncio.run(_arabic_reports(tmp_path, language="ar"))


@pytest.fixture
def fonts() -> set[str]:
    """The fonts with Arabic's and Urdu's letters, installed if none: asked for before the
    browser, which reads the machine's fonts once, as it starts."""
    return arabic_fonts()


def test_arabic_and_urdu_quotes_read_right_to_left_in_a_font_with_their_letters(
    fonts: set[str], arabic_reports: list[Path], browser: Browser, tmp_path: Path
) -> None:
    reports = arabic_reports
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    for report in reports:
        page.goto(report.as_uri())
        directions = page.eval_on_selector_all(
            "#themes blockquote, #themes h3, #themes p, #heard p, h1",
            "found => found.map(e => [e.tagName, e.textContent.trim(),"
            " getComputedStyle(e).direction])",
        )
        quotes = [(text, way) for tag, text, way in directions if tag == "BLOCKQUOTE"]
        assert len(quotes) >= 3, report
        # Every quote (Arabic or Urdu, with English words) reads right to left...
        assert {way for _, way in quotes} == {"rtl"}, quotes
        assert any("[nhs-number]" in text for text, _ in quotes)  # redacted as stored
        assert not any("943 476" in text for text, _ in quotes)
        # ...and the report's English around them left to right.
        english = [(text, way) for tag, text, way in directions if tag in ("H1", "H3")]
        assert english and {way for _, way in english} == {"ltr"}, english
        heard = [(text, way) for tag, text, way in directions if text.startswith("One grand")]
        assert heard == [(heard[0][0], "ltr")]
        urdu = [way for _, text, way in directions if text == arabic.URDU]
        assert urdu == ["rtl"]  # staff's quote in Markdown, by its own direction
        # Chromium drew each quote's letters in a font that has Arabic's and Urdu's letters
        # (without one, Urdu's shows as empty boxes).
        session = page.context.new_cdp_session(page)
        session.send("DOM.enable")
        session.send("CSS.enable")
        root = session.send("DOM.getDocument")["root"]["nodeId"]
        found = session.send(
            "DOM.querySelectorAll", {"nodeId": root, "selector": "#themes blockquote"}
        )
        for node in found["nodeIds"]:
            used = session.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            drawn_in = {font["familyName"] for font in used}
            assert drawn_in & fonts, (drawn_in, fonts)
        session.detach()
    shot = tmp_path / "rtl-report.png"
    page.locator("#themes").screenshot(path=str(shot))
    print(f"\nscreenshot of the report's Arabic quotes: {shot} (drawn in {sorted(drawn_in)})")
    if folder := os.environ.get("DIALOGUE_SCREENSHOT_DIR"):
        kept = Path(folder) / "rtl-report.png"
        shutil.copyfile(shot, kept)
        print(f"screenshot kept at {kept}")
    page.close()


def test_a_right_to_left_reports_charts_are_drawn_mirrored_with_nothing_cut_off(
    fonts: set[str], reports_in_arabic: list[Path], browser: Browser
) -> None:
    """In a report in Arabic (the page right to left), each chart reads from the right: its
    labels end at its right edge, its bars grow leftwards from there, and no text falls
    outside the chart (inherited, the page's direction once put every label beyond the
    chart's left edge, unseen). The reach section's charts, in English, stay left to right."""
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    for report in reports_in_arabic:
        page.goto(report.as_uri())
        assert page.eval_on_selector("html", "h => getComputedStyle(h).direction") == "rtl"
        charts = page.eval_on_selector_all(
            "figure.chart svg",
            """svgs => svgs.map(svg => {
                const edge = svg.getBoundingClientRect();
                const box = e => { const b = e.getBoundingClientRect();
                    return [b.left - edge.left, edge.right - b.right, b.width]; };
                return [
                    svg.closest('figure').dataset.chart,
                    getComputedStyle(svg).direction,
                    [...svg.querySelectorAll('text')].map(box),
                    [...svg.querySelectorAll('text.label')].map(box),
                    [...svg.querySelectorAll('rect.mark')].map(box),
                ];
            })""",
        )
        drawn = {name for name, *_ in charts}
        assert {"opinion-groups", "themes", "participation-by-step"} <= drawn, drawn
        for name, way, texts, labels, bars in charts:
            assert texts and labels and bars, name
            # Nothing cut off: every text lies inside its chart (a pixel of rounding).
            assert all(left >= -1 and right >= -1 for left, right, _ in texts), (name, texts)
            if name.startswith("reach-"):
                assert way == "ltr", name
                assert all(abs(left) <= 1 for left, _, _ in labels), (name, labels)
                continue
            assert way == "rtl", name
            # Labels and bars start at the right edge; bars of different lengths end apart.
            assert all(abs(right) <= 1 for _, right, _ in labels), (name, labels)
            assert all(abs(right) <= 1 for _, right, _ in bars), (name, bars)
    page.close()
