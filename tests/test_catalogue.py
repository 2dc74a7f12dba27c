"""The bot's messages: every one in every shipped language renders whole; plural forms follow
each language's CLDR rule; fallbacks; and what `dialogue content check` says of translations."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from babel.plural import to_gettext

from bot.content.catalogue_check import catalogue_problems
from bot.content.check import collect
from bot.texts import DEFAULT_LANGUAGE, Catalogue, locale_of, placeholders, plural_tags
from tests.support.cli import ROOT

SHIPPED = Catalogue.load()
COUNTS = (0, 1, 2, 3, 11, 100, 1.5)
LEFT_OVER = re.compile(r"\{[^{}]*\}")


def _marker(name: str) -> str:
    return f"<{name}>"


def _walk(language: str) -> list[str]:
    """Every message of ``language`` rendered with each placeholder a marker; what went wrong."""
    wrong: list[str] = []
    for key, english in SHIPPED.entries(DEFAULT_LANGUAGE).items():
        names = placeholders(*english.source)
        params = {name: _marker(name) for name in names - {"count"}}
        if len(english.source) > 1:
            rendered = [(c, SHIPPED.plural(language, key, c, **params)) for c in COUNTS]
        else:
            rendered = [(None, SHIPPED.get(language, key, **{n: _marker(n) for n in names}))]
        for count, text in rendered:
            shown = {_marker(n) for n in names - {"count"}}
            if count is not None:
                shown.add(SHIPPED.number(language, count))
            elif "count" in names:
                shown.add(_marker("count"))
            lost = sorted(s for s in shown if s not in text)
            if lost or LEFT_OVER.search(text):
                wrong.append(f"{language} {key} (count {count}): {text!r} lacks {lost}")
    return wrong


@pytest.mark.parametrize("language", sorted(SHIPPED.languages))
def test_every_message_renders_with_every_placeholder_filled(language: str) -> None:
    assert len(SHIPPED.entries(DEFAULT_LANGUAGE)) > 300  # the walk really walks the template
    assert _walk(language) == []


@pytest.mark.parametrize("language", sorted(SHIPPED.languages - {DEFAULT_LANGUAGE}))
def test_every_translation_is_valid_gettext_with_english_placeholders_and_its_plural_forms(
    language: str,
) -> None:
    with SHIPPED.file(language).open("rb") as stream:
        catalog = read_po(stream, abort_invalid=True, charset="utf-8")
    assert catalog.num_plurals == len(plural_tags(language))
    assert catalog.plural_forms.replace(" ", "") == to_gettext(
        locale_of(language).plural_form
    ).replace(" ", "")
    english = SHIPPED.entries(DEFAULT_LANGUAGE)
    wrong = []
    for key, entry in SHIPPED.entries(language).items():
        if not any(entry.strings):
            continue
        if not all(entry.strings):
            wrong.append(f"{key}: an empty plural form")
        if len(english[key].source) > 1 and len(entry.strings) != len(plural_tags(language)):
            wrong.append(f"{key}: {len(entry.strings)} plural forms")
        for text in entry.strings:
            if placeholders(text) != placeholders(*english[key].source):
                wrong.append(f"{key}: {text!r}")
    assert wrong == []
    assert [p for p in catalogue_problems(SHIPPED) if not p.warning] == []


# --- a temporary catalogue: English, Bengali, Arabic and Easy Read English -------------------

POT = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"

#. placeholders: {title}
msgctxt "session.started"
msgid "Welcome to {title}."
msgstr ""

msgctxt "session.paused"
msgid "We're taking a pause."
msgstr ""

#. placeholders: {count}
msgctxt "report.people"
msgid "{count} person"
msgid_plural "{count} people"
msgstr[0] ""
msgstr[1] ""
"""

HEADER = """\
msgid ""
msgstr ""
"Language: {language}\\n"
"Plural-Forms: {forms}\\n"
"Content-Type: text/plain; charset=utf-8\\n"

"""

BN = """\
#, fuzzy
msgctxt "session.started"
msgid "Welcome to {title}."
msgstr "{title}-এ স্বাগতম।"

#, fuzzy
msgctxt "report.people"
msgid "{count} person"
msgid_plural "{count} people"
msgstr[0] "{count} জন (one)"
msgstr[1] "{count} জন (other)"
"""

AR = """\
msgctxt "session.started"
msgid "Welcome to {title}."
msgstr "أهلاً بكم في {title}."

msgctxt "report.people"
msgid "{count} person"
msgid_plural "{count} people"
msgstr[0] "zero {count}"
msgstr[1] "one {count}"
msgstr[2] "two {count}"
msgstr[3] "few {count}"
msgstr[4] "many {count}"
msgstr[5] "other {count}"
"""

EN_EASY = """\
msgctxt "session.paused"
msgid "We're taking a pause."
msgstr "We stop for a short time."
"""


def _catalogue(root: Path, source: str = DEFAULT_LANGUAGE, **files: str) -> Catalogue:
    root.mkdir(parents=True, exist_ok=True)
    (root / "messages.pot").write_text(POT, encoding="utf-8")
    for name, body in files.items():
        language = name.replace("_", "-")
        folder = root / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        forms = to_gettext(locale_of(language).plural_form)
        header = HEADER.replace("{language}", language).replace("{forms}", forms)
        (folder / "messages.po").write_text(header + body, encoding="utf-8")
    return Catalogue(root, source)


@pytest.fixture
def catalogue(tmp_path: Path) -> Catalogue:
    return _catalogue(tmp_path, bn=BN, ar=AR, en_easy=EN_EASY)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["0 people", "1 person", "2 people", "3 people", "11 people", "100 people"]),
        # CLDR: Bengali's "one" is 0 and 1.
        ("bn", ["0 জন (one)", "1 জন (one)", "2 জন (other)", "3 জন (other)", "11 জন (other)"]),
        ("ar", ["zero 0", "one 1", "two 2", "few 3", "many 11", "other 100"]),
    ],
)
def test_the_plural_form_is_the_one_the_languages_rule_chooses(
    catalogue: Catalogue, language: str, expected: list[str]
) -> None:
    shown = [catalogue.plural(language, "report.people", n) for n in (0, 1, 2, 3, 11, 100)]
    assert shown[: len(expected)] == expected


def test_counts_are_written_as_numbers_of_the_language(catalogue: Catalogue) -> None:
    assert catalogue.plural("en", "report.people", 1234) == "1,234 people"
    assert catalogue.plural("en", "report.people", 1.0) == "1 person"
    assert catalogue.plural("en", "report.people", 2.5) == "2.5 people"
    assert catalogue.plural("bn", "report.people", 123456) == "1,23,456 জন (other)"
    assert catalogue.get("en", "session.started", title=1234567) == "Welcome to 1,234,567."
    assert catalogue.percent("en", Decimal("0.25")) == "25%"


def test_a_message_missing_in_a_language_falls_back_to_its_base_then_the_source_then_english(
    tmp_path: Path,
) -> None:
    catalogue = _catalogue(tmp_path / "a", bn=BN, ar=AR, en_easy=EN_EASY)
    assert catalogue.get("en-easy", "session.paused") == "We stop for a short time."
    assert catalogue.get("en-easy", "session.started", title="T") == "Welcome to T."
    assert catalogue.get("bn", "session.paused") == "We're taking a pause."
    assert catalogue.get("so", "session.started", title="T") == "Welcome to T."
    bengali_deployment = _catalogue(tmp_path / "b", source="bn", bn=BN)
    assert bengali_deployment.get("so", "session.started", title="T") == "T-এ স্বাগতম।"
    assert bengali_deployment.fallbacks("en-easy") == ["en", "bn"]


def test_a_plural_message_lacking_forms_falls_back_rather_than_fail(tmp_path: Path) -> None:
    two_forms = AR.split("msgstr[2]")[0]
    catalogue = _catalogue(tmp_path, ar=two_forms)
    assert catalogue.plural("ar", "report.people", 11) == "11 people"


def test_only_the_languages_used_are_read(catalogue: Catalogue) -> None:
    assert catalogue.languages == {"en", "bn", "ar", "en-easy"}
    catalogue.get("bn", "session.started", title="T")
    assert set(catalogue._read) == {"bn"}


# --- what `dialogue content check` says of translations ---------------------------------------


def _said(catalogue: Catalogue) -> list[str]:
    return [str(p) for p in catalogue_problems(catalogue)]


def test_content_check_counts_drafts_and_names_missing_messages(catalogue: Catalogue) -> None:
    said = _said(catalogue)
    bn = [line for line in said if "/bn/" in line]
    assert len([line for line in bn if "2 messages are drafts (marked fuzzy)" in line]) == 1
    assert all("warning:" in line for line in said)
    assert any("session.paused: not translated, so people see it in English" in line for line in bn)
    assert not any("drafts" in line for line in said if "/ar/" in line)


def test_content_check_reports_a_translation_of_an_older_english_as_out_of_date(
    tmp_path: Path,
) -> None:
    older = AR.replace('msgid "Welcome to {title}."', 'msgid "Hello, welcome to {title}."')
    said = _said(_catalogue(tmp_path, ar=older))
    (line,) = [line for line in said if "out of date" in line]
    assert "ar/LC_MESSAGES/messages.po:" in line and "session.started" in line
    assert "warning:" in line


def test_content_check_errors_on_placeholders_plural_forms_and_broken_files(
    tmp_path: Path,
) -> None:
    wrong = AR.replace("أهلاً بكم في {title}.", "أهلاً بكم في {titel}.").replace(
        'msgstr[5] "other {count}"\n', ""
    )
    said = _said(_catalogue(tmp_path / "a", ar=wrong))
    errors = [line for line in said if "warning:" not in line]
    assert len(errors) == 2
    assert "session.started: placeholders {titel} differ from the English {title}" in errors[0]
    assert "report.people: plural form msgstr[5] (other) is empty" in errors[1]
    broken = _said(_catalogue(tmp_path / "b", bn='msgctxt "session.started"\nmsgid "x\n'))
    assert len(broken) == 1 and "not a valid gettext file" in broken[0]


def test_content_check_warns_when_the_plural_forms_header_is_not_babels(tmp_path: Path) -> None:
    catalogue = _catalogue(tmp_path, bn=BN)
    po = tmp_path / "bn" / "LC_MESSAGES" / "messages.po"
    po.write_text(
        re.sub(
            r"Plural-Forms: [^\\]*", "Plural-Forms: nplurals=2; plural=(n != 1);", po.read_text()
        )
    )
    (line,) = [line for line in _said(catalogue) if "Plural-Forms" in line]
    assert "warning:" in line and "(n == 0)" in line


def test_a_script_in_a_language_without_messages_is_a_warning_that_names_the_file_to_add(
    tmp_path: Path,
) -> None:
    for folder in ("prompts", "resources"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    script = tmp_path / "prompts" / "health-data-intro.toml"
    script.write_text(
        script.read_text(encoding="utf-8").replace('language = "en"', 'language = "so"', 1),
        encoding="utf-8",
    )
    problems, _ = collect(tmp_path)
    (problem,) = [p for p in problems if "not translated into 'so'" in p.message]
    assert problem.warning and problem.path == script
    assert "bot/texts/so/LC_MESSAGES/messages.po" in problem.message


def test_dates_and_times_are_written_the_languages_way(catalogue: Catalogue) -> None:
    london = ZoneInfo("Europe/London")
    summer = datetime(2027, 7, 1, 18, 30, tzinfo=london)
    assert catalogue.datetime("en", summer) == "Thu, 1 Jul 2027, 18:30 United Kingdom Time"
    assert catalogue.datetime("bn", summer).startswith("বৃহস্পতি, 1 জুল, 2027")
    assert catalogue.date("en", summer.date()) == "1 Jul 2027"
    assert catalogue.date("bn", summer) == "1 জুল, 2027"
