"""A running bot loads a language's translations when that language is first asked for.

``dialogue run`` says it is ready before any translation is parsed; the content versions it
pins are the same as with every translation loaded at once, so databases made before keep
their sessions; and a broken translation no longer stops the bot: its readers see the source
language's words, and the log names the file. ``dialogue content check`` still loads and
checks them all.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.content.check import Library, collect, load_library
from bot.content.problems import ContentError
from storage.tables import sessions
from tests.support.cli import ROOT
from tests.support.clockwork import FRAN, FakeClock, content_root, settings_for, start_bot

SCRIPT = "health-data-intro"
T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def waiting(library: Library) -> set[str]:
    """The languages whose translations ``library`` has not loaded yet."""
    assert library.pending is not None
    return set(library.pending.waiting)


def digests(library: Library) -> dict[str, str]:
    return {s: library.version(script).digest for s, script in library.scripts.items()}


def test_nothing_is_parsed_until_a_language_is_asked_for_then_only_its_chain() -> None:
    lazy = load_library(ROOT, lazy=True)
    assert waiting(lazy) == {"bn", "en-easy"}
    assert lazy.translated_scripts == {} and lazy.translated_cards == {}
    assert set(lazy.consents) == {"en"} and set(lazy.profiles) == {"en"}
    bengali = lazy.script_in(SCRIPT, "bn-BD")
    assert bengali is not None and bengali.language == "bn"
    assert waiting(lazy) == {"en-easy"}
    eager = load_library(ROOT)
    assert bengali == eager.script_in(SCRIPT, "bn")
    assert lazy.consent_in("bn") == eager.consent_in("bn")
    assert lazy.profile_in("bn") == eager.profile_in("bn")
    easy = lazy.card_in("wider-uses", "en-easy")
    assert easy is not None and easy == eager.card_in("wider-uses", "en-easy")
    assert waiting(lazy) == set()


def test_the_languages_offered_are_those_of_the_files_before_any_is_loaded() -> None:
    lazy = load_library(ROOT, lazy=True)
    assert lazy.languages == load_library(ROOT).languages == {"bn", "en", "en-easy"}
    assert waiting(lazy) == {"bn", "en-easy"}


def test_the_pinned_versions_are_the_same_loaded_lazily_or_at_once(tmp_path: Path) -> None:
    assert digests(load_library(ROOT, lazy=True)) == digests(load_library(ROOT))
    # A content folder with one translation, of the script only.
    root = tmp_path / "content"
    shutil.copytree(ROOT / "prompts", root / "prompts")
    shutil.copytree(ROOT / "resources", root / "resources")
    for path in [*root.glob("resources/*.*.md"), *root.glob("prompts/*/bn.toml")]:
        path.unlink()
    lazy, eager = load_library(root, lazy=True), load_library(root)
    assert waiting(lazy) == {"bn"}
    assert digests(lazy) == digests(eager)
    assert digests(lazy) != digests(load_library(ROOT))  # the translations are in the digest


def broken_bengali(tmp_path: Path) -> Path:
    """The shipped content with a Bengali script translation whose [translation] is bad."""
    root = content_root(tmp_path)
    path = root / "prompts" / f"{SCRIPT}.bn.toml"
    text = path.read_text(encoding="utf-8")
    assert 'review = "draft"' in text
    path.write_text(text.replace('review = "draft"', 'review = "perhaps"'), encoding="utf-8")
    return root


def test_a_broken_translation_is_logged_once_and_its_readers_see_the_source(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = broken_bengali(tmp_path)
    with pytest.raises(ContentError):
        load_library(root)
    lazy = load_library(root, lazy=True)
    with caplog.at_level(logging.WARNING, logger="bot.content.languages"):
        script = lazy.script_in(SCRIPT, "bn")
        assert lazy.script_in(SCRIPT, "bn") == script
        assert lazy.version(lazy.scripts[SCRIPT]) is not None
    assert script is not None and script.language == "en"
    consent = lazy.consent_in("bn")
    assert consent.language == "bn"  # the other Bengali files load
    (warning,) = [r for r in caplog.records if r.name == "bot.content.languages"]
    path = root / "prompts" / f"{SCRIPT}.bn.toml"
    line = next(
        n
        for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if text.startswith("review")
    )
    assert warning.getMessage().startswith(
        f"translation not used (its readers see the source language's): {path}:{line}: "
        "translation.review;"
    )
    assert "perhaps" not in warning.getMessage()
    # The content check still fails on it, naming the file, line and field.
    problems, _ = collect(root)
    (error,) = [p for p in problems if not p.warning]
    assert (error.path, error.line, error.field) == (path, line, "translation.review")


async def test_a_bengali_speaker_of_a_bot_with_a_broken_translation_is_shown_english(
    database_url: str, tmp_path: Path
) -> None:
    root = broken_bengali(tmp_path)
    bot = await start_bot(settings_for(database_url, root), FakeClock(T0))
    try:
        await bot.say(FRAN, f"/start {SCRIPT}")
        await bot.say(FRAN, "/language bn")
        await bot.say(FRAN, "/next")
        english = load_library(ROOT).scripts[SCRIPT].steps[1].text.split("\n")[0]
        assert english in bot.platform.group_texts()[-1]
    finally:
        await bot.close()


async def test_a_bengali_session_keeps_its_pinned_version_across_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    root = content_root(tmp_path)
    eager = load_library(root)
    pinned = eager.version(eager.scripts[SCRIPT]).digest
    bengali = eager.script_in(SCRIPT, "bn")
    assert bengali is not None
    settings = settings_for(database_url, root)
    bot = await start_bot(settings, FakeClock(T0))
    try:
        assert waiting(bot.app.library) == {"bn", "en-easy"}
        await bot.say(FRAN, f"/start {SCRIPT}")
        await bot.say(FRAN, "/language bn")
    finally:
        await bot.close()
    bot = await start_bot(settings, FakeClock(T0))
    try:
        assert waiting(bot.app.library) == {"bn", "en-easy"}, "nothing loaded to restart"
        await bot.say(FRAN, "/next")
        assert bengali.steps[1].text.split("\n")[0] in bot.platform.group_texts()[-1]
        async with bot.app.database.connect() as conn:
            kept = (await conn.execute(select(sessions.c.content_version))).scalar_one()
        assert kept == pinned
    finally:
        await bot.close()


async def test_content_reloaded_after_a_cycle_closes_loads_its_translations_when_asked_too(
    database_url: str, tmp_path: Path
) -> None:
    root = content_root(tmp_path)
    bot = await start_bot(settings_for(database_url, root), FakeClock(T0))
    try:
        first = bot.app.library
        assert first.consent_in("bn").language == "bn"
        card = (root / "resources" / "wider-uses.md").read_text(encoding="utf-8")
        new = root / "resources" / "wider-uses-again.md"
        new.write_text(card.replace("id: wider-uses", "id: wider-uses-again"), encoding="utf-8")
        bot.scheduler.work._reload_content()  # what closing a cycle does
        reloaded = bot.app.library
        assert reloaded is bot.app.service.library and "wider-uses-again" in reloaded.cards
        assert waiting(reloaded) == {"bn", "en-easy"}
        assert reloaded.consent_in("bn") == first.consent_in("bn")
        # Content with an error of its own is not reloaded: the bot keeps what it has.
        new.write_text("no header", encoding="utf-8")
        bot.scheduler.work._reload_content()
        assert bot.app.library is reloaded
    finally:
        await bot.close()
