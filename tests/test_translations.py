"""Content in several languages: translation files, checked against their sources.

Each case copies the shipped prompts/ and resources/ into tmp_path and adds translations in
'cy' (the words are stand-ins: what is tested is how files load, check and fall back).
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.check import Library, collect, load_library
from bot.content.problems import ContentError, Problem
from bot.content.translation import fallbacks
from bot.content.version import from_document, version_of
from bot.core import engine, profile
from bot.core.captures import ContentUsed, ProfileAnswered
from bot.core.context import Actor, Context
from bot.core.events import CommandIssued
from bot.core.ids import GroupRef, PersonRef
from bot.core.records import ProfileAnswer
from bot.core.state import SessionState
from bot.texts import Catalogue
from storage import _content
from storage.db import make_engine
from tests.support.cli import ROOT

SCRIPT_ID = "health-data-intro"
CARD_ID = "what-is-health-data"
NOW = datetime(2027, 2, 1, 10, 0, tzinfo=UTC)
ALICE = PersonRef("console", "alice")
GROUP = GroupRef("console", "g")

SCRIPT_CY = """\
id = "health-data-intro"
language = "cy"
title = "Eich data iechyd"

[translation]
source_version = "1.0.0"
review = "reviewed"

[[steps]]
id = "research-comfort"
text = "Pa mor gyfforddus ydych chi?"
options = ["Cyfforddus iawn", "Eithaf", "Ddim iawn", "Ddim o gwbl", "Mae'n dibynnu", "Ddim yn siwr"]

[[steps]]
id = "trust-scale"
scale = { min_label = "Dim o gwbl", max_label = "Yn llwyr" }

[[steps]]
id = "feedback"
questions = [
  { id = "again", text = "Fyddech chi'n cymryd rhan eto?", options = ["Byddwn", "Efallai", "Na"] },
]
"""

CARD_CY = """\
---
id: what-is-health-data
language: cy
title: Beth yw data iechyd?
summary: Y nodiadau a gedwir amdanoch.
translation: {source_version: "1", review: reviewed}
---
BODY
"""

CONSENT_CY = """\
language = "cy"
version = "1.0-cy"
intro = "Helo! Gweler /mydata a /withdraw."

[translation]
source_version = "1.0"
review = "reviewed"

[scopes]
participate = "Angenrheidiol."
quote = "Dewisol."
profile = "Dewisol."
followup = "Dewisol."
"""

PROFILE_CY = """\
language = "cy"
version = "1"
prefer_not_to_say = "Gwell gen i beidio dweud"

[translation]
source_version = "1"
review = "reviewed"

[[questions]]
id = "age"
label = "Grwp oedran"
text = "Ym mha grwp oedran ydych chi?"
options = ["16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]

[[questions]]
id = "disability"
options = ["Ydy, llawer", "Ydy, ychydig", "Na"]

[questions.groups]
"Anabl" = ["Ydy, llawer", "Ydy, ychydig"]
"Ddim yn anabl" = ["Na"]

[[questions]]
id = "consulted-before"
baseline = false
"""


def content(tmp_path: Path, translations: bool = True) -> Path:
    """A copy of the shipped content (its translations too, unless told), to add some to."""
    root = tmp_path / "content"
    for folder in ("prompts", "resources"):
        shutil.copytree(ROOT / folder, root / folder)
    if not translations:
        for path in [*root.glob("prompts/*.*.toml"), *root.glob("resources/*.*.md")]:
            path.unlink()
    return root


def card_cy(root: Path, header: str = "", body: str = "") -> str:
    """The card translation, with its source's body (so its markup matches) unless given."""
    source = (root / "resources" / f"{CARD_ID}.md").read_text(encoding="utf-8")
    text = CARD_CY.replace("BODY", body or source.split("---\n", 2)[2])
    return text.replace("translation:", f"{header}translation:") if header else text


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.write_text(text, encoding="utf-8")
    return path


def translated(tmp_path: Path) -> Path:
    root = content(tmp_path)
    write(root, "prompts/health-data-intro.cy.toml", SCRIPT_CY)
    write(root, f"resources/{CARD_ID}.cy.md", card_cy(root))
    write(root, "prompts/consent/cy.toml", CONSENT_CY)
    write(root, "prompts/profile/cy.toml", PROFILE_CY)
    return root


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if not p.warning]


# --- loading and the fallback chain ----------------------------------------------------------


def test_a_script_translation_gives_the_words_and_keeps_everything_else(tmp_path: Path) -> None:
    library = load_library(translated(tmp_path))
    source, cy = library.scripts[SCRIPT_ID], library.script_in(SCRIPT_ID, "cy")
    assert cy is not None and cy.language == "cy" and cy.title == "Eich data iechyd"
    assert (cy.id, cy.version) == (source.id, source.version)
    assert cy.description == source.description  # left out: the source's
    comfort = cy.steps[source.index_of("research-comfort") or 0]
    assert comfort.text == "Pa mor gyfforddus ydych chi?"
    assert comfort.options[0] == "Cyfforddus iawn"
    assert comfort.facilitator_notes == source.steps[cy.steps.index(comfort)].facilitator_notes
    assert comfort.minutes == 2 and comfort.kind == "choice"
    trust = cy.ballot("trust-scale")
    assert trust is not None and trust.choices()[0] == "1 Dim o gwbl"
    again = cy.ballot("feedback.again")
    assert again is not None and again.options == ("Byddwn", "Efallai", "Na")
    heard = cy.ballot("feedback.heard")
    assert heard is not None and heard == source.ballot("feedback.heard")
    assert cy.steps[0] == source.steps[0]  # a step left out is the source's


def test_a_card_translation_keeps_the_sources_and_picture_of_its_source(tmp_path: Path) -> None:
    library = load_library(translated(tmp_path))
    source, cy = library.cards[CARD_ID], library.card_in(CARD_ID, "cy")
    assert cy is not None and cy.title == "Beth yw data iechyd?" and cy.language == "cy"
    assert (cy.id, cy.version, cy.sources) == (source.id, source.version, source.sources)


def test_each_language_falls_back_to_its_base_then_to_the_source_language(tmp_path: Path) -> None:
    root = translated(tmp_path)
    write(root, f"resources/{CARD_ID}.en-easy.md", card_cy(root).replace("cy", "en-easy"))
    library = load_library(root)
    assert fallbacks("en-easy", "en") == ("en-easy", "en")
    assert fallbacks("cy-x", "bn") == ("cy-x", "cy", "bn")
    easy = library.card_in(CARD_ID, "en-easy")
    assert easy is not None and easy.language == "en-easy"
    script = library.script_in(SCRIPT_ID, "en-easy")
    assert script is library.scripts[SCRIPT_ID]  # no en-easy script: its base, en
    assert library.script_in(SCRIPT_ID, "cy-x") is library.script_in(SCRIPT_ID, "cy")
    assert library.script_in(SCRIPT_ID, "so") is library.scripts[SCRIPT_ID]
    assert library.script_in("no-such-script", "cy") is None
    assert library.card_in("no-such-card", "cy") is None
    assert library.consent_in("cy").version == "1.0-cy"
    assert library.consent_in("so") is library.consents["en"]
    cy_profile, so_profile = library.profile_in("cy"), library.profile_in("so")
    assert cy_profile is not None and cy_profile.language == "cy"
    assert so_profile is library.profiles["en"]
    assert library.languages == frozenset({"en", "cy", "en-easy", "bn"})


def test_a_deployment_in_another_language_falls_back_to_its_own(tmp_path: Path) -> None:
    library = Library(language="cy", consents=load_library(translated(tmp_path)).consents)
    assert library.consent_in("so").language == "cy"
    assert library.consent_in("en-easy").language == "en"


# --- every problem a translation can have ----------------------------------------------------

STEP = '[[steps]]\nid = "research-comfort"\n'
SCRIPT_FILE = "prompts/health-data-intro.cy.toml"
CASES: dict[str, tuple[str, str, str, str, int | None]] = {
    # case: (file, text, field, part of the message, line)
    "unknown step": (
        SCRIPT_FILE,
        SCRIPT_CY.replace('"trust-scale"', '"trust"'),
        "steps[2].id",
        "the source has no step 'trust'",
        15,
    ),
    "options count": (
        SCRIPT_FILE,
        SCRIPT_CY.replace(', "Ddim yn siwr"', ""),
        "steps[1].options",
        "the source has 6 options and this has 5",
        12,
    ),
    "minutes": (
        SCRIPT_FILE,
        SCRIPT_CY.replace(STEP, STEP + "minutes = 3\n"),
        "steps[1].minutes",
        "it comes from the source",
        11,
    ),
    "kind": (
        SCRIPT_FILE,
        SCRIPT_CY.replace(STEP, STEP + 'kind = "prompt"\n'),
        "steps[1].kind",
        "it comes from the source",
        11,
    ),
    "cards": (
        SCRIPT_FILE,
        SCRIPT_CY.replace(STEP, STEP + 'cards = ["x"]\n'),
        "steps[1].cards",
        "it comes from the source",
        11,
    ),
    "script version": (
        SCRIPT_FILE,
        SCRIPT_CY.replace("title", 'version = "2"\ntitle'),
        "version",
        "it comes from the source",
        3,
    ),
    "other id": (
        SCRIPT_FILE,
        SCRIPT_CY.replace('id = "health-data-intro"', 'id = "other"'),
        "id",
        "a translation keeps its source's id",
        1,
    ),
    "no translation table": (
        SCRIPT_FILE,
        SCRIPT_CY.replace("[translation]\n", "").replace(
            'source_version = "1.0.0"\nreview = "reviewed"\n', ""
        ),
        "translation",
        "a translation needs a [translation] table",
        None,
    ),
    "review": (
        SCRIPT_FILE,
        SCRIPT_CY.replace('"reviewed"', '"done"'),
        "translation.review",
        "'draft' or 'reviewed'",
        7,
    ),
    "placeholder": (
        SCRIPT_FILE,
        SCRIPT_CY.replace(
            STEP, '[[steps]]\nid = "welcome"\ntext = "Croeso! Teipiwch /data."\n\n' + STEP
        ),
        "steps[1].text",
        "1 x '/mydata'",
        11,
    ),
    "language in the name": (
        SCRIPT_FILE,
        SCRIPT_CY.replace('language = "cy"', 'language = "bn"'),
        "language",
        "the file name says 'cy' but the file says 'bn'",
        2,
    ),
    "no source script": (
        "prompts/no-such-script.cy.toml",
        SCRIPT_CY,
        "",
        "there is no script at",
        None,
    ),
    "card markup": (f"resources/{CARD_ID}.cy.md", "", "body", "missing 8 x '**' (bold)", 8),
    "card sources": (
        f"resources/{CARD_ID}.cy.md",
        "sources: []\n",
        "sources",
        "it comes from the source",
        6,
    ),
    "no source card": ("resources/no-such-card.cy.md", "", "", "there is no card at", None),
    "consent table": (
        "prompts/consent/cy.toml",
        CONSENT_CY.replace('[translation]\nsource_version = "1.0"\nreview = "reviewed"\n', ""),
        "translation",
        "a translation needs a [translation] table",
        None,
    ),
    "consent command": (
        "prompts/consent/cy.toml",
        CONSENT_CY.replace(" a /withdraw", ""),
        "intro",
        "missing 1 x '/withdraw'",
        3,
    ),
    "profile options": (
        "prompts/profile/cy.toml",
        PROFILE_CY.replace(', "75+"', ""),
        "questions[1].options",
        "the source has 7 options and this has 6",
        13,
    ),
    "profile groups": (
        "prompts/profile/cy.toml",
        PROFILE_CY.replace('["Ydy, llawer", "Ydy, ychydig"]', '["Ydy, llawer"]').replace(
            '["Na"]', '["Ydy, ychydig", "Na"]'
        ),
        "questions[2].groups",
        "each group must gather the same options as the source's",
        15,
    ),
    "profile baseline": (
        "prompts/profile/cy.toml",
        PROFILE_CY.replace("baseline = false", "baseline = true"),
        "questions[3].baseline",
        "the source has baseline = false; a translation cannot change",
        25,
    ),
    "profile question": (
        "prompts/profile/cy.toml",
        PROFILE_CY.replace('id = "age"', 'id = "aged"'),
        "questions[1].id",
        "the source has no question 'aged'",
        10,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_translation_is_reported_with_its_file_line_and_field(
    case: str, tmp_path: Path
) -> None:
    name, text, field, message, line = CASES[case]
    root = content(tmp_path)
    if name.endswith(".md"):
        body = "Only words, no bold." if case == "card markup" else ""
        text = card_cy(root, text, body)
    path = write(root, name, text)
    problems = errors(collect(root)[0])
    assert [(p.path, p.field, p.line) for p in problems] == [(path, field, line)], problems
    assert message in problems[0].message
    with pytest.raises(ContentError, match=re.escape(message)):
        load_library(root)


def test_a_consent_text_in_another_language_needs_a_source_to_translate(tmp_path: Path) -> None:
    root = translated(tmp_path)
    (root / "prompts" / "consent" / "en.toml").unlink()
    problems = errors(collect(root)[0])
    mine = [p for p in problems if p.path.name == "cy.toml" and "consent" in str(p.path)]
    assert [p.message.startswith("there is no consent text at") for p in mine] == [True]


def test_the_translations_of_the_shipped_content_have_no_errors() -> None:
    problems, library = collect(ROOT)
    assert [str(p) for p in errors(problems)] == []
    assert all(t.path.is_file() for t in library.translations.values())


# --- what `dialogue content check` reports ---------------------------------------------------


def warnings(root: Path) -> list[str]:
    return [str(p) for p in collect(root)[0] if p.warning and "baseline" not in str(p.path)]


def test_content_check_reports_nothing_of_complete_reviewed_current_translations(
    tmp_path: Path,
) -> None:
    root = translated(tmp_path)
    for card in (root / "resources").glob("*.md"):
        if "." not in card.stem and card.stem != CARD_ID:
            body = card.read_text(encoding="utf-8").split("---\n", 2)[2]
            header = CARD_CY.split("---\n")[1].replace(CARD_ID, card.stem)
            write(root, f"resources/{card.stem}.cy.md", f"---\n{header}---\n{body}")
    assert [w for w in warnings(root) if "'cy'" in w] == []


def test_content_check_warns_of_what_a_language_lacks_and_what_falls_back(tmp_path: Path) -> None:
    root = translated(tmp_path)
    found = warnings(root)
    card = str(root / "resources" / "your-choices.md")
    assert (
        f"{card}: warning: no 'cy' translation of the card 'your-choices'; people reading 'cy' are "
        "shown the 'en' one until it is translated"
    ) in found
    assert not any(f"{CARD_ID}.md: warning: no 'cy'" in w for w in found)
    (root / "prompts" / "consent" / "cy.toml").unlink()
    consent = [w for w in warnings(root) if "'cy' translation of the consent text" in w]
    assert [w.split(":")[0] for w in consent] == [str(root / "prompts" / "consent" / "en.toml")]


def test_content_check_warns_of_an_out_of_date_translation_with_both_versions(
    tmp_path: Path,
) -> None:
    root = translated(tmp_path)
    write(root, SCRIPT_FILE, SCRIPT_CY.replace('"1.0.0"', '"0.9"'))
    found = [w for w in warnings(root) if "source_version" in w]
    assert found == [
        f"{root / SCRIPT_FILE}:6: warning: translation.source_version: this translates version "
        f"0.9 of {root / 'prompts' / 'health-data-intro.toml'}, which is now version 1.0.0: bring "
        'the translation up to date with what changed, then set source_version = "1.0.0"; until '
        "then people reading 'cy' may see words the source no longer says"
    ]


def test_content_check_warns_of_a_draft_until_it_is_marked_reviewed(tmp_path: Path) -> None:
    root = translated(tmp_path)
    write(root, "prompts/profile/cy.toml", PROFILE_CY.replace('"reviewed"', '"draft"'))
    found = [w for w in warnings(root) if "DRAFT" in w and "cy" in w]
    assert found == [
        f"{root / 'prompts/profile/cy.toml'}:7: warning: translation.review: this translation is "
        "a DRAFT: have a fluent reader of 'cy' review it, then set review = \"reviewed\"; until "
        "then people reading 'cy' are shown a translation nobody has checked"
    ]


# --- content versions keep the translations --------------------------------------------------


def test_a_content_version_includes_its_translations(tmp_path: Path) -> None:
    plain = load_library(content(tmp_path / "a", translations=False))
    both = load_library(translated(tmp_path / "b"))
    script = plain.scripts[SCRIPT_ID]
    assert plain.version(script).digest == version_of(script, plain.cards).digest
    assert both.version(both.scripts[SCRIPT_ID]).digest != plain.version(script).digest
    kept = both.version(both.scripts[SCRIPT_ID])
    again = from_document(kept.digest, kept.document())
    assert again == kept


def test_a_session_started_in_a_language_keeps_its_words_after_the_files_change(
    tmp_path: Path,
) -> None:
    root = translated(tmp_path)
    before = load_library(root)
    kept = before.version(before.scripts[SCRIPT_ID])
    write(root, SCRIPT_FILE, SCRIPT_CY.replace("Pa mor gyfforddus", "Sut ydych chi'n teimlo"))
    write(root, f"resources/{CARD_ID}.cy.md", card_cy(root).replace("Beth yw", "Dyma"))
    after = load_library(root)
    assert after.version(after.scripts[SCRIPT_ID]).digest != kept.digest
    ctx = Context(after, Catalogue.load(), NOW, "default", ran={kept.digest: kept})
    script = ctx.script(SCRIPT_ID, kept.digest, "cy")
    assert script is not None
    comfort = script.index_of("research-comfort") or 0
    assert script.steps[comfort].text == "Pa mor gyfforddus ydych chi?"
    assert ctx.cards(kept.digest, "cy")[CARD_ID].title == "Beth yw data iechyd?"
    fresh = ctx.script(SCRIPT_ID, None, "cy")
    assert fresh is not None and fresh.steps[comfort].text.startswith("Sut ydych")
    assert ctx.cards(None, "cy")[CARD_ID].title.startswith("Dyma")


async def test_a_kept_version_reads_back_with_its_translations(
    migrated_url: str, tmp_path: Path
) -> None:
    library = load_library(translated(tmp_path))
    kept = library.version(library.scripts[SCRIPT_ID])
    database: AsyncEngine = make_engine(migrated_url)
    try:
        async with database.begin() as conn:
            await _content.record_versions(conn, [ContentUsed(kept, NOW)])
        async with database.connect() as conn:
            found = await _content.read_versions(conn, [kept.digest])
    finally:
        await database.dispose()
    assert found == {kept.digest: kept}
    assert found[kept.digest].script_in("cy", "en").title == "Eich data iechyd"


# --- profile answers are stored in the source language ---------------------------------------


def test_a_profile_answer_chosen_in_a_translation_is_stored_as_the_source_option(
    tmp_path: Path,
) -> None:
    library = load_library(translated(tmp_path))
    ctx = Context(library, Catalogue.load(), NOW, "default", language="cy")
    actor = Actor(ALICE, GROUP, frozenset({"participate", "profile"}))
    event = CommandIssued(ALICE, None, "profile", ("answer", "age", "2"), NOW)
    result = engine.step(SessionState(GROUP), event, actor, ctx)
    assert result.captures == (ProfileAnswered(ALICE, "age", "25 to 34", NOW),)
    said = result.actions[0].text  # type: ignore[attr-defined]
    assert said.startswith(ctx.t("profile.recorded", label="Grwp oedran", answer="25-34"))
    stored = (ProfileAnswer("age", "25 to 34", NOW), ProfileAnswer("gender", "Man", NOW))
    lines = profile.mydata_lines(stored, ctx)
    welsh = ctx.t("profile.mydata_answer", question="Ym mha grwp oedran ydych chi?", answer="25-34")
    assert welsh in lines
    source = ctx.t(
        "profile.mydata_answer", question="Which of these best describes you?", answer="Man"
    )
    assert source in lines
    shown = engine.step(
        SessionState(GROUP),
        CommandIssued(ALICE, None, "profile", (), NOW),
        Actor(ALICE, GROUP, frozenset({"participate", "profile"}), profile=stored),
        ctx,
    )
    review = shown.actions[0].text  # type: ignore[attr-defined]
    assert ctx.t("profile.review_line", number=1, label="Grwp oedran", answer="25-34") in review


def test_the_baseline_is_checked_against_the_source_profile_only(tmp_path: Path) -> None:
    root = translated(tmp_path)
    problems, library = collect(root)
    baseline = [p for p in problems if p.path.name == "baseline.csv"]
    assert len(baseline) == 1 and "EXAMPLE" in baseline[0].message
    # What the reach report reads (the source language's questions and the baseline) is what
    # it read with no translation there.
    alone = load_library(content(tmp_path / "alone", translations=False))
    assert (library.profiles["en"], library.baseline) == (alone.profiles["en"], alone.baseline)
    cy = library.profiles["cy"]
    assert cy.questions[0].report_values()[0] == "16-24"
    disability = cy.question("disability")
    assert disability is not None and disability.groups == {
        "Anabl": ("Ydy, llawer", "Ydy, ychydig"),
        "Ddim yn anabl": ("Na",),
    }
    # Groups not translated keep the source's headings, gathering the translated options.
    ethnic = cy.question("ethnic-group")
    assert (
        ethnic is not None
        and ethnic.groups == library.profiles["en"].question("ethnic-group").groups
    )  # type: ignore[union-attr]


# --- the shipped Easy Read cards -------------------------------------------------------------


def test_every_card_of_the_sample_script_has_an_easy_read_draft_with_its_sources() -> None:
    library = load_library(ROOT)
    used = {c for step in library.scripts[SCRIPT_ID].steps for c in step.cards}
    assert len(used) == 7
    for card_id in sorted(used):
        easy = library.card_in(card_id, "en-easy")
        assert easy is not None and easy.language == "en-easy", card_id
        assert easy.sources == library.cards[card_id].sources
        # Marked reviewed only once Easy Read readers have checked it.
        assert library.translations[f"card:{card_id}:en-easy"].review == "draft"
        sentences = re.split(r"(?<=[.?!:;])\s+|\n", easy.body)
        assert max(len(s.split()) for s in sentences) <= 15, card_id
