"""Shipped content validates, and broken content is reported with file, line and field.

Each broken case copies the shipped prompts/ and resources/ into tmp_path and breaks one thing,
the way a member of staff editing a file might.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.content.check import Library, collect, load_library
from bot.content.models import SCOPES
from bot.content.problems import ContentError, Problem
from tests.support.cli import ROOT

SCRIPT = "prompts/health-data-intro.toml"
CARD = "resources/what-is-health-data.md"


@pytest.fixture(scope="module")
def shipped() -> tuple[list[Problem], Library]:
    return collect(ROOT)


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(ROOT)


# --- the shipped content ---------------------------------------------------------------------


def test_the_shipped_content_has_no_errors(shipped: tuple[list[Problem], Library]) -> None:
    problems, _ = shipped
    assert [str(p) for p in problems if not p.warning] == []


def test_every_shipped_content_file_is_loaded(library: Library) -> None:
    files = [
        *(ROOT / "prompts").glob("*.toml"),
        *(ROOT / "prompts" / "consent").glob("*.toml"),
        *(ROOT / "resources").glob("*.md"),
    ]
    assert files
    loaded = {path.resolve() for path in library.files.values()}
    loaded |= {t.path.resolve() for t in library.translations.values()}
    assert sorted(str(f) for f in files if f.resolve() not in loaded) == []
    assert library.scripts and library.cards and library.consents


def test_every_card_a_step_names_exists_in_the_scripts_language(library: Library) -> None:
    for script in library.scripts.values():
        for step in script.steps:
            for card_id in step.cards:
                assert card_id in library.cards, (script.id, step.id, card_id)
                assert library.cards[card_id].language == script.language


def test_every_script_has_consent_text_in_its_language(library: Library) -> None:
    for script in library.scripts.values():
        assert script.language in library.consents, script.id


def test_every_card_is_sourced_and_every_picture_has_alt_text(library: Library) -> None:
    for card in library.cards.values():
        assert card.sources, card.id
        assert all(s.url.startswith("https://") for s in card.sources), card.id
        if card.image is not None:
            assert card.image.alt.strip(), card.id
            assert (ROOT / "resources" / card.image.path).is_file(), card.id


def test_the_consent_text_describes_every_scope_and_hashes_what_people_read(
    library: Library,
) -> None:
    for text in library.consents.values():
        assert set(text.scopes) == set(SCOPES)
        full = text.full_text()
        assert text.intro in full
        assert all(description in full for description in text.scopes.values())
        assert text.digest() == hashlib.sha256(full.encode("utf-8")).hexdigest()


# --- broken content --------------------------------------------------------------------------


def _line_of(text: str, needle: str, after: str = "") -> int:
    """The 1-based line of the first ``needle`` at or after the first ``after``."""
    start = text.index(after) if after else 0
    return text.count("\n", 0, text.index(needle, start)) + 1


def _step_lines(text: str, step_id: str) -> range:
    """The lines of the [[steps]] table holding ``step_id``."""
    id_line = _line_of(text, f'id = "{step_id}"')
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines, start=1) if line.strip() == "[[steps]]"]
    start = max(n for n in headers if n < id_line)
    end = min([n for n in headers if n > id_line] + [len(lines) + 1])
    return range(start, end)


def _on(needle: str, after: str = "", extra: int = 0) -> Callable[[str], range]:
    """The line where ``needle`` is (or up to ``extra`` lines below it), in the original file."""

    def lines(text: str) -> range:
        line = _line_of(text, needle, after)
        return range(line, line + 1 + extra)

    return lines


def _edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{name} no longer contains {old!r}; update the test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _drop_step_text(root: Path) -> None:
    path = root / SCRIPT
    text = path.read_text(encoding="utf-8")
    start = text.index('text = """', text.index('id = "first-thoughts"'))
    end = text.index('"""', start + len('text = """')) + 3
    path.write_text(text[:start] + text[end:].lstrip("\n"), encoding="utf-8")


def _save_as_utf16(root: Path) -> None:
    path = root / SCRIPT
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))  # starts b"\xff\xfe"


def _latin1_accent_in_card(root: Path) -> None:
    path = root / CARD
    raw = path.read_bytes()
    assert b"Each time" in raw
    path.write_bytes(raw.replace(b"Each time", b"Caf\xe9: each time", 1))


def _picture_without_alt(root: Path) -> None:
    (root / "resources" / "records.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    _edit(root, CARD, "language: en\n", "language: en\nimage:\n  path: records.png\n")


@dataclass(frozen=True)
class Broken:
    """One thing broken in a copy of the content, and what the check must say about it."""

    file: str
    breaks: Callable[[Path], None]
    words: tuple[str, ...]  # in the problem's message, lower-cased
    field: str | None = None  # the dotted field the problem names, when there is one
    lines: Callable[[str], range] | None = None  # lines of the ORIGINAL file it may point at


BROKEN: dict[str, Broken] = {
    "missing-step-text": Broken(
        SCRIPT,
        _drop_step_text,
        ("required",),
        "steps[3].text",
        lambda text: _step_lines(text, "first-thoughts"),
    ),
    "unknown-card-id": Broken(
        SCRIPT,
        lambda root: _edit(root, SCRIPT, '["your-own-care"]', '["your-own-cares"]'),
        ("your-own-cares",),
        "steps[4].cards",
        _on('["your-own-care"]'),
    ),
    "broken-toml": Broken(
        SCRIPT,
        lambda root: _edit(
            root, SCRIPT, 'id = "break"\nkind = "break"', 'id = "break"\nkind = "break'
        ),
        ("not valid toml",),
        None,
        _on('kind = "break"'),
    ),
    "script-saved-as-utf16": Broken(
        SCRIPT, _save_as_utf16, ("not utf-8",), None, lambda _: range(1, 2)
    ),
    "latin1-byte-in-a-card": Broken(
        CARD,
        _latin1_accent_in_card,
        ("not utf-8", "0xe9"),
        None,
        _on("Each time"),
    ),
    "card-header-not-yaml": Broken(
        CARD,
        lambda root: _edit(
            root, CARD, "title: What is health and care data?", "title: What is: health data?"
        ),
        ("not valid yaml",),
        None,
        _on("title: What is health and care data?"),
    ),
    "picture-without-alt-text": Broken(
        CARD,
        _picture_without_alt,
        ("required",),
        "image.alt",
        _on("language: en", extra=1),  # the image: line is inserted after it
    ),
    "duplicate-step-ids": Broken(
        SCRIPT,
        lambda root: _edit(root, SCRIPT, 'id = "own-care-experiences"', 'id = "first-thoughts"'),
        ("first-thoughts", "twice"),
    ),
    "misspelt-field": Broken(
        SCRIPT,
        lambda root: _edit(
            root,
            SCRIPT,
            'minutes = 4\ncards = ["your-choices"]',
            'minuts = 4\ncards = ["your-choices"]',
        ),
        ("unknown field",),
        "steps[10].minuts",
        _on("minutes = 4", after='id = "your-choices"'),
    ),
    "missing-consent-scope": Broken(
        "prompts/consent/en.toml",
        lambda root: _edit(root, "prompts/consent/en.toml", "\nfollowup = ", "\n# followup = "),
        ("followup",),
    ),
    "no-resources-folder": Broken(
        "resources",
        lambda root: shutil.rmtree(root / "resources"),
        ("folder not found",),
    ),
}


def _broken_copy(tmp_path: Path, case: Broken) -> Path:
    root = tmp_path / "content"
    root.mkdir(parents=True)
    shutil.copytree(ROOT / "prompts", root / "prompts")
    shutil.copytree(ROOT / "resources", root / "resources")
    case.breaks(root)
    return root


def _the_problem(problems: list[Problem], root: Path, case: Broken) -> Problem:
    """The one error about the broken file that says what the case expects."""
    target = root / case.file
    about = [
        p
        for p in problems
        if not p.warning
        and p.path.resolve() == target.resolve()
        and all(w in str(p).lower() for w in case.words)
    ]
    assert len(about) == 1, [str(p) for p in problems]
    return about[0]


@pytest.mark.parametrize("case", BROKEN.values(), ids=BROKEN)
def test_broken_content_is_reported_with_its_file_line_and_field(
    case: Broken, tmp_path: Path
) -> None:
    original = (ROOT / case.file).read_text(encoding="utf-8") if case.lines else ""
    root = _broken_copy(tmp_path, case)

    problems, _ = collect(root)
    problem = _the_problem(problems, root, case)

    if case.field is not None:
        assert problem.field == case.field
    if case.lines is not None:
        assert problem.line in case.lines(original), str(problem)
    with pytest.raises(ContentError) as raised:
        load_library(root)
    assert str(problem) in str(raised.value)


def test_every_problem_is_reported_at_once_not_just_the_first(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(ROOT / "prompts", root / "prompts")
    shutil.copytree(ROOT / "resources", root / "resources")
    # One problem per file: a script that fails its schema is not cross-checked further.
    cases = ("unknown-card-id", "latin1-byte-in-a-card", "missing-consent-scope")
    for name in cases:
        BROKEN[name].breaks(root)

    problems, _ = collect(root)

    for name in cases:
        _the_problem(problems, root, BROKEN[name])


# --- the `dialogue content check` command ----------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One run of the real command on a content root."""

    root: Path
    returncode: int
    stdout: str
    stderr: str


def _start_check(root: Path, cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALOGUE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "content", "check", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """The command run on the shipped content and on every broken copy, all at once (it is slow
    to start, and the runs are independent)."""
    base = tmp_path_factory.mktemp("content-check")
    roots = {"shipped": ROOT} | {
        name: _broken_copy(base / name, case) for name, case in BROKEN.items()
    }
    started = {name: _start_check(root, base) for name, root in roots.items()}
    done = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=60)
        done[name] = Run(roots[name], process.returncode, stdout, stderr)
    return done


def test_content_check_passes_the_shipped_content(runs: dict[str, Run]) -> None:
    run = runs["shipped"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert re.search(r"\b0 errors\b", run.stdout)


@pytest.mark.parametrize("name", BROKEN)
def test_content_check_reports_broken_content_without_a_traceback(
    name: str, runs: dict[str, Run]
) -> None:
    case, run = BROKEN[name], runs[name]
    expected = str(_the_problem(collect(run.root)[0], run.root, case))

    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert "Traceback" not in output
    assert expected in output.splitlines()
    assert Path(case.file).name in output
