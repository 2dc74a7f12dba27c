"""The cycle report opened in real headless Chromium with the network off."""

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from debian import FLAGS, chromium
from export_cycle import KEY, LIBRARY, T0, TITLES, cycle_captures
from playwright.sync_api import ConsoleMessage, Route, sync_playwright

from exporters.dataset import ExportOptions, export_dataset
from storage.datasets import Datasets
from storage.db import make_engine, upgrade
from storage.repositories import Repository
from tests.capture_support import STORE_KEY

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


async def _reports(url: str, out: Path) -> list[Path]:
    await upgrade(url)
    engine = make_engine(url)
    try:
        repo = Repository(engine, STORE_KEY)
        for group, title in TITLES.items():
            await repo.set_group_title(group, title)
        await repo.apply(cycle_captures())
        found = []
        for profile in ("research", "public"):
            options = ExportOptions(
                out=out / profile,
                cycle_id="c1",
                made_by="tester",
                now=T0 + timedelta(days=10),
                profile=profile,
            )
            result = await export_dataset(Datasets(engine), LIBRARY, KEY, options)
            found.append(result.folder / "report.html")
        return found
    finally:
        await engine.dispose()


@pytest.fixture
def reports(sqlite_url: str, tmp_path: Path) -> list[Path]:
    return asyncio.run(_reports(sqlite_url, tmp_path))


def test_cycle_report_draws_every_chart_offline_without_errors(reports: list[Path]) -> None:
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

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium()), args=FLAGS)
        try:
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
                    ])""",
                )
                assert {name for name, _ in drawn} == CHARTS, report
                assert all(marks > 0 for _, marks in drawn), drawn
                assert page.title().startswith("Cycle report: c1")
                assert "Learning report" in page.inner_text("body")
                page.close()
        finally:
            browser.close()
    assert problems == []
    assert requests == []
