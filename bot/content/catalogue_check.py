"""The bot's own messages in each language, checked against the English template.

Errors: a file that is not valid gettext, a translation whose placeholders differ from the
English, a plural message without the forms the language's plural rule needs. Warnings: a
message left untranslated (people see it in English), a message translated from an older English
(out of date), and how many messages are drafts (``#, fuzzy``) still to be reviewed.
"""

from __future__ import annotations

from pathlib import Path

from bot.content.problems import Problem
from bot.texts import DEFAULT_LANGUAGE, Catalogue, Entry, locale_of, placeholders, plural_tags

GUIDE = "docs/translating.md"


def catalogue_problems(catalogue: Catalogue) -> list[Problem]:
    """Every problem of every translation in ``catalogue``, language by language."""
    problems: list[Problem] = []
    for language in sorted(catalogue.languages - {DEFAULT_LANGUAGE}):
        problems += language_problems(catalogue, language)
    return problems


def language_problems(catalogue: Catalogue, language: str) -> list[Problem]:
    """The problems of one language's file."""
    path = Path(str(catalogue.file(language)))
    broken = malformed(catalogue, language)
    if broken is not None:
        return [Problem(path, None, "", f"not a valid gettext file: {broken}; fix it in Poedit")]
    english = catalogue.entries(DEFAULT_LANGUAGE)
    entries = catalogue.entries(language)
    header = _header_problem(catalogue, language, path)
    problems = [header] if header is not None else []
    drafts = 0
    for key, source in english.items():
        entry = entries.get(key)
        if entry is None or not any(entry.strings):
            problems.append(
                Problem(
                    path,
                    entry.line if entry else None,
                    key,
                    "not translated, so people see it in English; translate it (run "
                    f"`pybabel update` first if it is not in the file, see {GUIDE})",
                    warning=True,
                )
            )
            continue
        problems += _entry_problems(entry, source, language, path, key)
        drafts += entry.draft
    if drafts:
        problems.append(
            Problem(
                path,
                None,
                "",
                f"{drafts} messages are drafts (marked fuzzy) that a fluent speaker has not "
                "reviewed yet; the bot uses them. Review each and clear its fuzzy mark "
                f"(Poedit: 'Needs work' off), see {GUIDE}",
                warning=True,
            )
        )
    return problems


def _entry_problems(
    entry: Entry, source: Entry, language: str, path: Path, key: str
) -> list[Problem]:
    problems: list[Problem] = []
    expected = placeholders(*source.source)
    for number, text in enumerate(entry.strings):
        found = placeholders(text)
        if text and found != expected:
            form = f" (msgstr[{number}])" if len(entry.strings) > 1 else ""
            problems.append(
                Problem(
                    path,
                    entry.line,
                    key,
                    f"placeholders{form} {_names(found)} differ from the English "
                    f"{_names(expected)}; use exactly the English ones",
                )
            )
    if len(source.source) > 1:
        tags = plural_tags(language)
        if len(entry.strings) != len(tags):
            problems.append(
                Problem(
                    path,
                    entry.line,
                    key,
                    f"has {len(entry.strings)} plural forms, but '{language}' needs "
                    f"{len(tags)} ({', '.join(tags)}); set the file's Plural-Forms header "
                    "as the warning above says and fill in every form",
                )
            )
        elif not entry.translated:
            empty = [f"msgstr[{n}] ({tag})" for n, tag in enumerate(tags) if not entry.strings[n]]
            problems.append(
                Problem(
                    path,
                    entry.line,
                    key,
                    f"plural form {', '.join(empty)} is empty, so people see this message in "
                    f"English; fill in every form '{language}' needs ({', '.join(tags)})",
                )
            )
    if entry.source != source.source:
        problems.append(
            Problem(
                path,
                entry.line,
                key,
                "out of date: translated from an older English text; run `pybabel update` "
                f"(see {GUIDE}) and check the translation against the new English",
                warning=True,
            )
        )
    return problems


def _header_problem(catalogue: Catalogue, language: str, path: Path) -> Problem | None:
    from babel.plural import to_gettext

    wanted = to_gettext(locale_of(language).plural_form)
    found = plural_forms(catalogue, language)
    if _squeeze(found) == _squeeze(wanted):
        return None
    return Problem(
        path,
        None,
        "Plural-Forms",
        f"the header says '{found}', but the bot chooses plural forms by Babel's rule for "
        f"'{language}'; set it to '{wanted}' so translators see the forms the bot uses",
        warning=True,
    )


def malformed(catalogue: Catalogue, language: str) -> str | None:
    """What makes ``language``'s file unreadable as gettext, or None when it reads."""
    from babel.messages.pofile import PoFileError, read_po

    try:
        with catalogue.file(language).open("rb") as stream:
            read_po(stream, abort_invalid=True, charset="utf-8")
    except (PoFileError, UnicodeDecodeError, ValueError) as exc:
        return str(exc)
    return None


def plural_forms(catalogue: Catalogue, language: str) -> str:
    """The ``Plural-Forms`` header of ``language``'s file."""
    from babel.messages.pofile import read_po

    with catalogue.file(language).open("rb") as stream:
        return str(read_po(stream, charset="utf-8").plural_forms)


def _squeeze(text: str) -> str:
    return "".join(text.split()).rstrip(";")


def _names(names: set[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in sorted(names)) or "none"
