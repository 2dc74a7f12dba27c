"""The reach section of the cycle report, opened in real headless Chromium with the network off."""

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from bot.content.check import Library
from exporters.dataset import ExportOptions, export_dataset
from storage.datasets import Datasets
from storage.db import make_engine, upgrade
from storage.repositories import Repository
from tests.support.capture import STORE_KEY
from tests.support.debian import FLAGS, chromium
from tests.support.export_cycle import KEY, LIBRARY
from tests.support.reach_cycle import QUESTIONS, T0, baseline, captures

LIBRARY_WITH_PROFILE = Library(
    scripts=LIBRARY.scripts,
    cards=LIBRARY.cards,
    profiles={"en": QUESTIONS},
    baseline=baseline("EXAMPLE: made up"),
)


async def _report(url: str, out: Path) -> Path:
    await upgrade(url)
    engine = make_engine(url)
    try:
        await Repository(engine, STORE_KEY).apply(captures())
        options = ExportOptions(out, "c1", "tester", T0 + timedelta(days=9), profile="public")
        result = await export_dataset(Datasets(engine), LIBRARY_WITH_PROFILE, KEY, options)
        return result.folder / "report.html"
    finally:
        await engine.dispose()


@pytest.fixture
def report(sqlite_url: str, tmp_path: Path) -> Path:
    return asyncio.run(_report(sqlite_url, tmp_path / "export"))


def test_reach_charts_are_drawn_and_the_example_warning_is_on_every_printed_page(
    report: Path,
) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium()), args=FLAGS)
        try:
            page = browser.new_context(offline=True).new_page()
            page.goto(report.as_uri())
            drawn = page.eval_on_selector_all(
                "section.reach figure.chart",
                """figures => figures.map(f => [
                    f.dataset.chart,
                    [...f.querySelectorAll('svg .mark')].filter(m => {
                        const box = m.getBoundingClientRect();
                        return box.width > 0 && box.height > 0;
                    }).length,
                ])""",
            )
            # Two shares of the ethnic chart are zero: a zero draws no bar, its label says 0.
            assert dict(drawn) == {
                "reach-age": 4,
                "reach-ethnic": 6,
                "reach-before": 2,
                "reach-inequality": 3,
            }
            banner = "div.example-baseline"
            where = f"document.querySelector('{banner}')"
            assert page.evaluate(f"getComputedStyle({where}).position") == "static"
            assert page.is_visible(banner)
            page.emulate_media(media="print")
            assert page.evaluate(f"getComputedStyle({where}).position") == "fixed"
        finally:
            browser.close()
