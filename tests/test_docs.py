"""The docs stay true: links resolve, commands and settings exist, examples run as shown."""

from __future__ import annotations

import argparse
import re
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import discord
import pytest

from bot.cli.parser import parser
from bot.content.check import collect
from bot.platforms.discord.out import NEEDED
from bot.settings import ENVIRONMENT_SECRETS, Settings
from tests.support.cli import ROOT, dialogue

README = ROOT / "README.md"
DOCS = [README, ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCED = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# A day as the console prints it: ISO in logs and names, the locale's way in messages ("Dec 6,
# 2026", "6 Dec 2026"), so the tour holds on any day, not only the one it was written on.
DATE = re.compile(r"\d{4}-\d{2}-\d{2}|[A-Z][a-z]{2} \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]{2} \d{4}")
# What a command line may have just before `dialogue` (docker compose exec bot dialogue ...).
STARTS = ("&&", ";", "|", "$", "sudo", "bot")
# `schedule.py` names a file, not the setting schedule.py.
FILE_KINDS = ("py", "md", "toml", "txt", "csv", "json", "db")


def shown(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def code(text: str) -> Iterator[str]:
    """Every fenced block and inline code span of a Markdown text."""
    for match in FENCED.finditer(text):
        yield match.group(2).replace("\\\n", " ")
    yield from re.findall(r"`([^`]+)`", FENCED.sub("", text))


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[`*_\[\]()]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCED.sub("", path.read_text(encoding="utf-8"))
    return {slug(h) for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}


def sections(path: Path, level: str = "## ") -> dict[str, str]:
    """A Markdown file's sections of one level, by heading."""
    parts = re.split(rf"^{level}(.+)$", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.mark.parametrize("doc", DOCS, ids=shown)
def test_every_relative_link_leads_to_a_file_and_heading_of_this_repository(doc: Path) -> None:
    text = FENCED.sub("", doc.read_text(encoding="utf-8"))
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue
        name, _, anchor = target.partition("#")
        linked = (doc.parent / name).resolve() if name else doc
        assert linked.is_relative_to(ROOT), f"{shown(doc)}: {target} leaves the project"
        assert linked.exists(), f"{shown(doc)}: {target} does not exist"
        if anchor:
            assert anchor in anchors(linked), f"{shown(doc)}: {target}: no such heading"


def dialogue_commands(text: str) -> Iterator[list[str]]:
    """The words after each `dialogue` run as a command (not a service's name) in the code."""
    for line in (line for snippet in code(text) for line in snippet.splitlines()):
        words = line.split()
        for at, word in enumerate(words):
            before = words[at - 1] if at else "&&"
            if word.endswith("/bin/dialogue") or (word == "dialogue" and before in STARTS):
                yield words[at + 1 :]


def check_command(top: argparse.ArgumentParser, words: list[str]) -> str | None:
    """What is wrong with ``dialogue WORDS`` as the parser reads it, or None."""
    current, rest = top, list(words)
    while rest:
        word = rest.pop(0).strip("[]")
        if word.startswith("#") or word in ("|", "&&", ";", ">"):
            return None
        if word.startswith("--"):
            option = word.split("=")[0]
            if option not in current._option_string_actions:
                return f"{current.prog} has no option {option}"
            takes_value = current._option_string_actions[option].nargs != 0
            if takes_value and "=" not in word and rest:
                rest.pop(0)
            continue
        if not re.fullmatch(r"[a-z][a-z-]*", word):
            return None
        choices = [
            action.choices
            for action in current._actions
            if not action.option_strings and action.choices is not None
        ]
        if not choices:
            return None
        if word not in choices[0]:
            return f"{current.prog} has no {word!r}"
        found = choices[0][word] if isinstance(choices[0], dict) else None
        if not isinstance(found, argparse.ArgumentParser):
            return None
        current = found
    return None


@pytest.mark.parametrize("doc", DOCS, ids=shown)
def test_every_dialogue_command_in_the_docs_exists_with_the_options_shown(doc: Path) -> None:
    top = parser()
    text = doc.read_text(encoding="utf-8")
    wrong = [
        f"dialogue {' '.join(words)}: {problem}"
        for words in dialogue_commands(text)
        if (problem := check_command(top, words))
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("doc", DOCS, ids=shown)
def test_every_setting_named_in_the_docs_exists(doc: Path) -> None:
    fields = Settings.model_fields
    text = doc.read_text(encoding="utf-8")
    spans = list(code(text))
    named = [
        (section, key)
        for span in spans
        for section, key in re.findall(r"^([a-z_]+)\.([a-z_]+)(?:\s*=\s*[^=].*)?$", span.strip())
        if section in fields and key not in FILE_KINDS
    ]
    named += [
        (section.lower(), key.lower())
        for section, key in re.findall(r"\bDIALOGUE_([A-Z]+)__([A-Z_]+)", text)
        if (section, key) != ("SECTION", "KEY")
    ]
    for section, key in named:
        model = fields[section].annotation
        assert isinstance(model, type), section
        assert key in model.model_fields, f"{shown(doc)}: no setting {section}.{key}"
    sources = "".join(p.read_text() for p in ROOT.glob("*/*.py") if ".venv" not in p.parts)
    for name in set(re.findall(r"\bDIALOGUE_([A-Z][A-Z_]*[A-Z])\b", text)):
        if "__" not in name and name.lower() not in ENVIRONMENT_SECRETS:
            assert f"DIALOGUE_{name}" in sources, f"{shown(doc)}: nothing reads DIALOGUE_{name}"
    for block in FENCED.finditer(text):
        settings = tomllib.loads(block.group(2)) if block.group(1) == "toml" else {}
        if settings and set(settings) <= set(fields):
            Settings(**settings)


def test_the_configuration_guide_describes_every_settings_section() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert set(re.findall(r"^\| `\[([a-z_]+)\]`", text, re.MULTILINE)) == set(Settings.model_fields)


def test_the_readme_has_the_two_quick_start_commands_and_the_second_is_what_ci_runs() -> None:
    quick = sections(README)["Quick start"]
    blocks = [block.group(2).strip() for block in FENCED.finditer(quick)]
    assert len(blocks) == 2 and all("\n" not in block for block in blocks), blocks
    runs, tests = blocks
    assert "pip install . " in runs and runs.endswith("dialogue run --demo")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert [line for line in ci if line.startswith("python3 -m venv")] == [tests]
    shell = [m.group(2) for m in FENCED.finditer(README.read_text()) if m.group(1) == "sh"]
    assert [block.strip() for block in shell] == blocks


def test_the_console_tour_in_the_readme_is_what_the_console_prints(tmp_path: Path) -> None:
    (tour,) = [m.group(2) for m in FENCED.finditer(sections(README)["A tour of the console"])]
    lines = tour.splitlines()
    typed = [line for line in lines if not line.startswith("[")]
    (tmp_path / "tour.txt").write_text("\n".join(typed) + "\n", encoding="utf-8")
    ran = dialogue(None, "run", "--transcript", "tour.txt", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    printed = [DATE.sub("DATE", line) for line in ran.stdout.splitlines()]
    at = 0
    for line in lines:
        start = DATE.sub("DATE", line.split(" ...")[0])
        following = [n for n, p in enumerate(printed[at:], at) if p.startswith(start)]
        assert following, f"the console does not print, in this order: {line}"
        at = following[0] + 1


def test_the_discord_invite_link_asks_for_exactly_the_permissions_the_bot_checks() -> None:
    text = (ROOT / "docs" / "discord.md").read_text(encoding="utf-8")
    (link,) = re.findall(r"https://discord\.com/oauth2/authorize\?\S+", text)
    assert "scope=bot+applications.commands" in link
    wanted = discord.Permissions(**dict.fromkeys(NEEDED, True)).value
    assert f"permissions={wanted}" in link


def test_the_script_and_translation_in_the_content_guide_load_without_errors(
    tmp_path: Path,
) -> None:
    text = (ROOT / "docs" / "content.md").read_text(encoding="utf-8")
    steps = [m.group(2) for m in FENCED.finditer(text) if "[[steps]]" in m.group(2)]
    (script,) = [s for s in steps if "estimated_minutes" in s]
    (translation,) = [s for s in steps if "[translation]" in s]
    for folder in ("prompts", "resources"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "prompts" / "health-data-intro.bn.toml").write_text(translation, encoding="utf-8")
    problems, library = collect(tmp_path)
    assert [str(p) for p in problems if not p.warning] == []
    assert "script:health-data-intro:bn" in library.translations
    (tmp_path / "prompts" / "health-data-intro.bn.toml").unlink()
    (tmp_path / "prompts" / "health-data-intro.toml").write_text(script, encoding="utf-8")
    problems, library = collect(tmp_path)
    assert [str(p) for p in problems if not p.warning] == []
    assert list(library.scripts) == ["health-data-intro"]


def test_every_guide_the_code_and_deployment_files_name_exists() -> None:
    files = [*ROOT.glob("bot/**/*.py"), ROOT / "config.example.toml", ROOT / "Dockerfile"]
    files += [ROOT / "compose.yaml", *(ROOT / "deploy").iterdir()]
    named = {m for f in files for m in re.findall(r"\bdocs/[\w-]+\.md", f.read_text())}
    assert named, "the code names no guide"
    assert [name for name in sorted(named) if not (ROOT / name).is_file()] == []
