"""Opinion groups, themes and the Polis folder of a cycle with two blocs and three themes."""

import asyncio
import csv
import multiprocessing
import sys
import threading
import time
import warnings
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from exporters import analyses, themes
from exporters.dataset import ExportError, ExportOptions, ExportResult, export_dataset
from exporters.walk import Walk
from storage.datasets import Datasets
from storage.db import make_engine
from storage.repositories import Repository
from tests.support.analysis_cycle import (
    BLOC_A,
    BLOC_A_AGREES,
    EVERYONE_AGREES,
    LIBRARY,
    PEOPLE,
    STATEMENTS,
    T0,
    THEMES,
    captures,
    quotable,
    reply_text,
    theme_of,
    typed_votes,
)
from tests.support.capture import STORE_KEY
from tests.support.export_cycle import KEY
from tests.support.export_text import csv_rows

SCHEMA = Path(__file__).parent / "refi-qda" / "Project-mrt2019.xsd"
QDA = "{urn:QDA-XML:project:1.0}"
TEXTS = {reply_text(n): n for n in range(len(PEOPLE))}


@pytest.fixture
async def datasets(migrated_url: str) -> AsyncIterator[Datasets]:
    engine = make_engine(migrated_url)
    try:
        await Repository(engine, STORE_KEY).apply(captures())
        yield Datasets(engine)
    finally:
        await engine.dispose()


async def _export(
    datasets: Datasets,
    out: Path,
    profile: str = "research",
    themes_file: Path | None = None,
    threshold: int = 10,
    theme_sample: int = themes.FIT_SAMPLE,
) -> ExportResult:
    options = ExportOptions(
        out=out,
        cycle_id="c1",
        made_by="tester",
        now=T0 + timedelta(days=1),
        profile=profile,
        threshold=threshold,
        themes_file=themes_file,
        theme_sample=theme_sample,
    )
    return await export_dataset(datasets, LIBRARY, KEY, options)


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> None:
    """The analyses in a new interpreter of their own rather than forked from the suite's fork
    server (which has loaded their libraries already): for the tests of how they load."""
    monkeypatch.setattr(analyses, "START_METHOD", "spawn")


@pytest.fixture
def serve() -> Iterator[Callable[[Path], str]]:
    """Serve a folder over loopback HTTP, as red-dwarf's loader reads an export folder."""
    servers = []

    def start(folder: Path) -> str:
        handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _statement_keys(polis: Path) -> dict[int, str]:
    by_text = {text: key for key, text in STATEMENTS.items()}
    comments = csv_rows(polis / "comments.csv")
    return {int(c["comment-id"]): by_text[c["comment-body"]] for c in comments}


def _voters(polis: Path) -> dict[int, str]:
    return {int(r["voter-id"]): r["participant"] for r in csv_rows(polis / "participant-ids.csv")}


async def test_red_dwarf_loads_the_polis_folder_offline_and_reads_the_typed_votes(
    datasets: Datasets, tmp_path: Path, serve: Callable[[Path], str]
) -> None:
    from reddwarf.data_loader import Loader
    from reddwarf.implementations.polis import run_pipeline

    polis = (await _export(datasets, tmp_path / "out")).folder / "polis"
    with warnings.catch_warnings():
        # A folder without is-meta makes the loader warn, then fetch comments from pol.is.
        warnings.simplefilter("error", UserWarning)
        loader = Loader(directory_url=serve(polis), is_cache_enabled=False)
    assert len(loader.comments_data) == len(STATEMENTS)
    assert all(c["is_meta"] is False and c["created"] for c in loader.comments_data)
    result = run_pipeline(votes=loader.votes_data, min_user_vote_threshold=6, random_state=0)
    keys, voters = _statement_keys(polis), _voters(polis)
    loaded = {
        voters[int(pid)]: {keys[int(tid)]: int(v) for tid, v in row.items() if v == v}
        for pid, row in result.raw_vote_matrix.iterrows()
    }
    assert loaded == {KEY(who): votes for who, votes in typed_votes().items()}
    with (polis / "summary.csv").open(encoding="utf-8", newline="") as handle:
        summary = dict(csv.reader(handle))
    assert summary["voters"] == "24" and summary["comments"] == str(len(STATEMENTS))
    assert summary["groups"] == "2" and summary["voters-in-conv"] == "24"
    assert summary["topic"] == "Cycle c1"


def _opinion_rows(folder: Path) -> list[dict[str, str]]:
    return csv_rows(folder / "opinion_groups.csv")


async def test_opinion_groups_find_the_two_blocs_and_what_sets_each_apart(
    datasets: Datasets, tmp_path: Path
) -> None:
    out = (await _export(datasets, tmp_path / "out")).folder
    polis, voters = out / "polis", _voters(out / "polis")
    members: dict[str, set[str]] = {}
    for row in csv_rows(polis / "participants-votes.csv"):
        members.setdefault(row["group-id"], set()).add(voters[int(row["participant"])])
    bloc_a = {KEY(p) for p in BLOC_A}
    bloc_b = {KEY(p) for p in PEOPLE} - bloc_a
    assert sorted(members.values(), key=sorted) == sorted([bloc_a, bloc_b], key=sorted)
    rows = _opinion_rows(out)
    a_group = str(next(int(g) for g, m in members.items() if m == bloc_a) + 1)
    sets_apart: dict[str, set[tuple[str, str]]] = {}
    for row in rows:
        if row["role"] == "representative":
            assert row["people"] == "12"
            sets_apart.setdefault(row["group"], set()).add((row["step_id"], row["direction"]))
    a_agrees = {(k, "agree") for k in BLOC_A_AGREES}
    a_disagrees = {(k, "disagree") for k in ("fewer-routes", "fewer-parks")}
    flip = {"agree": "disagree", "disagree": "agree"}
    assert sets_apart[a_group] == a_agrees | a_disagrees
    (b_group,) = set(sets_apart) - {a_group}
    assert sets_apart[b_group] == {(k, flip[d]) for k, d in a_agrees | a_disagrees}
    shared = {(r["step_id"], r["direction"]) for r in rows if r["role"] == "consensus"}
    assert (EVERYONE_AGREES, "agree") in shared
    assert all(r["group"] == "all" for r in rows if r["role"] == "consensus")


async def test_public_opinion_group_sizes_go_through_the_disclosure_policy(
    datasets: Datasets, tmp_path: Path
) -> None:
    shown = await _export(datasets, tmp_path / "shown", profile="public", threshold=12)
    sizes = {r["group"]: r["people"] for r in _opinion_rows(shown.folder) if r["group"] != "all"}
    assert sizes == {"1": "12", "2": "12"}
    hidden = await _export(datasets, tmp_path / "hidden", profile="public", threshold=13)
    rows = _opinion_rows(hidden.folder)
    assert {r["group"] for r in rows} == {"1", "2", "all"}
    assert all(r["people"] == "" for r in rows)


def _themes(folder: Path) -> dict[str, dict[str, str]]:
    return {r["theme_id"]: r for r in csv_rows(folder / "themes.csv")}


def _vocabulary(words: str) -> str:
    """The planted theme whose words these are (all of them must be one theme's)."""
    (found,) = {name for name, vocab in THEMES.items() if set(words.split()) <= set(vocab)}
    return found


async def test_themes_find_the_three_planted_themes_quoting_only_people_who_agreed(
    datasets: Datasets, tmp_path: Path
) -> None:
    out = (await _export(datasets, tmp_path / "out")).folder
    themes = _themes(out)
    planted = {theme_id: _vocabulary(row["words"]) for theme_id, row in themes.items()}
    assert sorted(planted.values()) == sorted(THEMES)
    assert all((r["participants"], r["replies"]) == ("8", "8") for r in themes.values())
    texts = {int(r["response_id"]): r["text"] for r in csv_rows(out / "responses.csv")}
    for row in csv_rows(out / "theme_replies.csv"):
        n = TEXTS[texts[int(row["response_id"])]]
        assert theme_of(n) == planted[row["theme_id"]]
    quotes = csv_rows(out / "theme_quotes.csv")
    assert {q["theme_id"] for q in quotes} == set(themes)
    for quote in quotes:
        n = TEXTS[quote["quote"]]
        assert quotable(n) and theme_of(n) == planted[quote["theme_id"]]
    public = (await _export(datasets, tmp_path / "public", profile="public", threshold=1)).folder
    assert sorted(_vocabulary(r["words"]) for r in _themes(public).values()) == sorted(THEMES)
    assert all(quotable(TEXTS[q["quote"]]) for q in csv_rows(public / "theme_quotes.csv"))


async def test_themes_fitted_on_a_sample_place_every_reply_a_batch_at_a_time(
    datasets: Datasets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = (await _export(datasets, tmp_path / "whole")).folder
    # A big cycle in miniature: k-means sees 18 of the 24 replies, texts come back 5 at a time.
    monkeypatch.setattr(themes.OpenReplies, "BATCH", 5)
    sampled = (await _export(datasets, tmp_path / "sampled", theme_sample=18)).folder
    texts = {int(r["response_id"]): r["text"] for r in csv_rows(sampled / "responses.csv")}
    planted = {t: _vocabulary(r["words"]) for t, r in _themes(sampled).items()}
    assert sorted(planted.values()) == sorted(THEMES)
    replies = csv_rows(sampled / "theme_replies.csv")
    assert len(replies) == len(PEOPLE)
    for row in replies:
        assert theme_of(TEXTS[texts[int(row["response_id"])]]) == planted[row["theme_id"]]
    for quote in csv_rows(sampled / "theme_quotes.csv"):
        n = TEXTS[quote["quote"]]
        assert quotable(n) and theme_of(n) == planted[quote["theme_id"]]
    assert len(csv_rows(sampled / "theme_quotes.csv")) == len(csv_rows(whole / "theme_quotes.csv"))


def _by_vocabulary(folder: Path) -> dict[str, str]:
    return {_vocabulary(r["words"]): theme_id for theme_id, r in _themes(folder).items()}


async def test_staff_theme_file_renames_merges_and_drops_themes_in_the_next_export(
    datasets: Datasets, tmp_path: Path
) -> None:
    ids = _by_vocabulary((await _export(datasets, tmp_path / "first")).folder)
    edits = tmp_path / "settings" / "themes.toml"
    edits.parent.mkdir()
    edits.write_text(
        f'[rename]\n"{ids["buses"]}" = "Getting around"\n"{ids["rents"]}" = "Homes and parks"\n'
        f'[merge]\n"{ids["parks"]}" = "{ids["rents"]}"\n',
        encoding="utf-8",
    )
    out = (await _export(datasets, tmp_path / "second", themes_file=edits)).folder
    themes = _themes(out)
    assert {t["name"]: t["replies"] for t in themes.values()} == {
        "Getting around": "8",
        "Homes and parks": "16",
    }
    _, blocks = _blocks(out, "themes")
    headed = {b.xpath("h3")[0].text_content(): b.xpath('p[@class="words"]') for b in blocks}
    assert set(headed) == {"Getting around", "Homes and parks"}
    # A theme staff named still shows the words it was found by.
    assert all(
        words[0].text_content().startswith("Words that set it apart: ") for words in headed.values()
    )
    joined = {r["theme_id"] for r in csv_rows(out / "theme_replies.csv")}
    assert joined == {ids["buses"], ids["rents"]}
    edits.write_text(f'drop = ["{ids["buses"]}"]\n', encoding="utf-8")
    out = (await _export(datasets, tmp_path / "third", themes_file=edits)).folder
    assert set(_themes(out)) == {ids["parks"], ids["rents"]}


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('[merge]\n"no-such-theme" = "x"\n', ["merge", "'no-such-theme'", "themes.csv"]),
        ('[renam]\n"a" = "b"\n', ["renam", "[rename]"]),
        ("drop = [unquoted]\n", ["not valid TOML"]),
    ],
)
async def test_a_bad_theme_file_stops_the_export_naming_the_file_theme_and_fix(
    datasets: Datasets, tmp_path: Path, content: str, named: list[str]
) -> None:
    edits = tmp_path / "themes.toml"
    edits.write_text(content, encoding="utf-8")
    with pytest.raises(ExportError) as failed:
        await _export(datasets, tmp_path / "out", themes_file=edits)
    message = str(failed.value)
    assert str(edits) in message
    assert all(part in message for part in named), message
    assert not (tmp_path / "out").exists()


async def test_qdpx_codes_each_reply_with_its_theme(datasets: Datasets, tmp_path: Path) -> None:
    out = (await _export(datasets, tmp_path / "out")).folder
    planted = {_vocabulary(r["words"]): r["name"] for r in _themes(out).values()}
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    with zipfile.ZipFile(out / "dialogue.qdpx") as archive:
        project = etree.fromstring(archive.read("project.qde"))
        assert schema.validate(project), schema.error_log
        sources = {
            s.get("guid"): archive.read(f"sources/{s.get('guid')}.txt").decode()
            for s in project.iter(f"{QDA}TextSource")
        }
    parent = project.find(f"{QDA}CodeBook/{QDA}Codes/{QDA}Code[@name='Themes']")
    names = {c.get("guid"): c.get("name") for c in parent.findall(f"{QDA}Code")}
    assert sorted(names.values()) == sorted(planted.values())
    coded = 0
    for source in project.iter(f"{QDA}TextSource"):
        text = sources[source.get("guid")]
        for selection in source.iter(f"{QDA}PlainTextSelection"):
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            refs = [r.get("targetGUID") for r in selection.iter(f"{QDA}CodeRef")]
            themes = [names[r] for r in refs if r in names]
            assert themes == [planted[theme_of(TEXTS[text[start:end]])]]
            coded += 1
    assert coded == len(PEOPLE)


def _blocks(
    folder: Path, section: str
) -> tuple[lxml_html.HtmlElement, list[lxml_html.HtmlElement]]:
    """A report section, and its blocks (one per opinion group or theme)."""
    page = lxml_html.fromstring((folder / "report.html").read_text(encoding="utf-8"))
    (found,) = page.xpath(f'//section[@id="{section}"]')
    return found, found.xpath('.//div[@class="analysis-block"]')


def _table(section: lxml_html.HtmlElement) -> dict[str, list[str]]:
    """The data table behind a section's chart: each row's name and cells."""
    (figure,) = section.xpath(".//figure")
    return {
        row.xpath("th")[0].text_content(): [td.text_content() for td in row.xpath("td")]
        for row in figure.xpath(".//tbody/tr")
    }


def _statements(block: lxml_html.HtmlElement) -> set[tuple[str, str]]:
    return {
        (li.xpath("q")[0].text_content(), li.xpath('span[@class="lean"]')[0].text_content())
        for li in block.xpath(".//li")
    }


@pytest.mark.parametrize(("profile", "threshold"), [("research", 10), ("public", 1)])
async def test_the_report_shows_the_two_blocs_and_the_three_themes_by_their_words(
    datasets: Datasets, tmp_path: Path, profile: str, threshold: int
) -> None:
    out = (await _export(datasets, tmp_path / "out", profile, threshold=threshold)).folder
    section, blocks = _blocks(out, "opinion-groups")
    groups = {b.xpath("h3")[0].text_content(): _statements(b) for b in blocks}
    shared = groups.pop("What most people share")
    assert (STATEMENTS[EVERYONE_AGREES], "most people agreed") in shared
    more, less = "agreed more than others", "disagreed more than others"
    bloc_a = {(STATEMENTS[k], more) for k in BLOC_A_AGREES}
    bloc_a |= {(STATEMENTS[k], less) for k in ("fewer-routes", "fewer-parks")}
    flip = {more: less, less: more}
    bloc_b = {(text, flip[lean]) for text, lean in bloc_a}
    assert sorted(groups.values(), key=sorted) == sorted([bloc_a, bloc_b], key=sorted)
    assert _table(section) == {name: ["12"] for name in groups}
    assert all("People in this group: 12." in b.text_content() for b in blocks[:2])

    section, blocks = _blocks(out, "themes")
    # Unnamed by staff, a theme is headed by its distinctive words.
    counts = {
        ", ".join(r["words"].split()): [r["participants"], r["replies"]]
        for r in _themes(out).values()
    }
    assert _table(section) == counts
    planted = {}
    for block in blocks:
        name = block.xpath("h3")[0].text_content()
        planted[name] = _vocabulary(name.replace(",", ""))
        quotes = [q.text_content() for q in block.xpath("blockquote")]
        assert quotes
        assert all(quotable(TEXTS[q]) and theme_of(TEXTS[q]) == planted[name] for q in quotes)
    assert sorted(planted.values()) == sorted(THEMES)
    # Nobody who did not agree to be quoted is quoted anywhere in the report.
    page = (out / "report.html").read_text(encoding="utf-8")
    assert not [n for n in range(len(PEOPLE)) if not quotable(n) and reply_text(n) in page]


async def test_the_public_report_shows_group_sizes_only_as_the_policy_allows(
    datasets: Datasets, tmp_path: Path
) -> None:
    out = (await _export(datasets, tmp_path / "out", "public", threshold=13)).folder
    section, blocks = _blocks(out, "opinion-groups")
    assert len(blocks) == 3
    # Two groups of 12 under a threshold of 13: neither size is printed.
    assert set(map(tuple, _table(section).values())) <= {("fewer than 13",), ("withheld",)}
    assert "12" not in section.text_content()


STOPPED = "The themes analysis stopped: its process ended"
# Libraries the analyses need: none of them may be imported by the export's own process.
ANALYSIS_LIBRARIES = ("sklearn", "scipy", "pandas", "reddwarf")


async def test_the_analyses_run_without_their_libraries_in_the_exports_process(
    datasets: Datasets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in ANALYSIS_LIBRARIES:
            monkeypatch.setitem(sys.modules, name, None)
    for name in ANALYSIS_LIBRARIES:
        monkeypatch.setitem(sys.modules, name, None)  # importing it here raises ImportError
    out = (await _export(datasets, tmp_path / "out")).folder
    assert sorted(_vocabulary(r["words"]) for r in _themes(out).values()) == sorted(THEMES)
    groups = {r["group"] for r in _opinion_rows(out) if r["role"] == "representative"}
    assert groups == {"1", "2"}


@pytest.mark.parametrize(
    ("package", "body", "named"),
    [
        ("sklearn", "raise ImportError('broken for the test')", "The themes analysis failed: "),
        ("sklearn", "import os\nos._exit(3)", f"{STOPPED} (exit code 3)"),
        ("reddwarf", "raise RuntimeError('broken for the test')", "The opinion groups analysis"),
    ],
    ids=["themes-raise", "themes-exit", "groups-raise"],
)
async def test_a_failed_analysis_stops_the_export_naming_it_and_leaves_no_folder(
    spawned: None,
    datasets: Datasets,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    package: str,
    body: str,
    named: str,
) -> None:
    # The analyses' process is started with this process's path: there the package breaks.
    broken = tmp_path / "broken"
    (broken / package).mkdir(parents=True)
    (broken / package / "__init__.py").write_text(body, encoding="utf-8")
    monkeypatch.syspath_prepend(str(broken))
    with pytest.raises(ExportError) as failed:
        await _export(datasets, tmp_path / "out")
    assert str(failed.value).startswith(named), failed.value
    assert not (tmp_path / "out").exists()


def _analyses_process() -> list[int]:
    return [p.pid for p in multiprocessing.active_children() if p.name == "dialogue-analyses"]


def _loaded(pid: int, library: str) -> bool:
    """Whether process ``pid`` has loaded ``library`` (one of its files is mapped)."""
    return f"/{library}/" in Path(f"/proc/{pid}/maps").read_text(encoding="utf-8")


async def test_the_analyses_process_loads_its_libraries_while_the_export_walks_the_cycle(
    spawned: None, datasets: Datasets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked: list[bool] = []
    votes = Walk.votes

    async def votes_once_loaded(walk: Walk, cycle: str | None) -> None:
        # The votes come after every reply: by now the analyses' process should be loading
        # scikit-learn, so its start costs the export no time once the walk is done.
        (pid,) = _analyses_process()
        deadline = time.monotonic() + 60
        while not _loaded(pid, "sklearn") and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        walked.append(_loaded(pid, "sklearn"))
        await votes(walk, cycle)

    monkeypatch.setattr(Walk, "votes", votes_once_loaded)
    out = (await _export(datasets, tmp_path / "out")).folder
    assert walked == [True]
    assert sorted(_vocabulary(r["words"]) for r in _themes(out).values()) == sorted(THEMES)
    assert not _analyses_process()


async def test_an_export_that_fails_in_its_walk_leaves_no_analyses_process(
    datasets: Datasets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_votes(walk: Walk, cycle: str | None) -> None:
        assert _analyses_process()  # started by the replies already walked
        raise RuntimeError("broken for the test")

    monkeypatch.setattr(Walk, "votes", broken_votes)
    with pytest.raises(RuntimeError, match="broken for the test"):
        await _export(datasets, tmp_path / "out")
    assert not _analyses_process()


async def test_an_analyses_process_that_ended_before_it_was_asked_stops_the_export_naming_it(
    spawned: None, datasets: Datasets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # scikit-learn ends the process as it loads, while the export still walks the cycle.
    broken = tmp_path / "broken" / "sklearn"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("import os\nos._exit(3)", encoding="utf-8")
    monkeypatch.syspath_prepend(str(broken.parent))
    votes = Walk.votes

    async def votes_once_ended(walk: Walk, cycle: str | None) -> None:
        deadline = time.monotonic() + 60
        while _analyses_process() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await votes(walk, cycle)

    monkeypatch.setattr(Walk, "votes", votes_once_ended)
    with pytest.raises(ExportError) as failed:
        await _export(datasets, tmp_path / "out")
    assert str(failed.value) == f"{STOPPED} (exit code 3)"
    assert not (tmp_path / "out").exists()
