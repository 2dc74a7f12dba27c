"""The catalogue of every message a person reads: gettext files, read and formatted with Babel.

English is the template ``messages.pot`` (``msgctxt`` is the message's dotted key, ``msgid`` its
English text); each translation is ``<language>/LC_MESSAGES/messages.po``. A language's file is
read when a message in it is first asked for, and Babel's modules are imported only then, so
starting the bot reads no more than it says. docs/translating.md tells translators how.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from string import Formatter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from babel import Locale

DEFAULT_LANGUAGE = "en"
TEMPLATE = "messages.pot"
# CLDR's plural categories in the order of gettext's msgstr[n] (babel.plural.to_gettext's).
PLURAL_TAGS = ("zero", "one", "two", "few", "many", "other")


@dataclass(frozen=True, slots=True)
class Entry:
    """One message of one language's file."""

    source: tuple[str, ...]  # the English it translates: msgid, or msgid and msgid_plural
    strings: tuple[str, ...]  # msgstr, or msgstr[0..n]; empty strings where untranslated
    draft: bool  # marked fuzzy: a draft that needs review by a fluent speaker
    line: int | None  # the line of its msgid in the file

    @property
    def translated(self) -> bool:
        """Every string of it is filled in."""
        return all(self.strings)


class Catalogue:
    """Messages by language and dotted key.

    A message missing in a language falls back to the language's base (``en-easy`` -> ``en``),
    then to the deployment's source language, then to English.
    """

    def __init__(self, folder: Traversable, source: str = DEFAULT_LANGUAGE) -> None:
        self.folder = folder
        self.source = source
        self._read: dict[str, dict[str, Entry]] = {}
        self._languages: frozenset[str] | None = None

    @classmethod
    def load(cls, source: str = DEFAULT_LANGUAGE) -> Catalogue:
        """The catalogue shipped in this package; ``source`` is the deployment's language."""
        return cls(resources.files(__package__), source)

    @property
    def languages(self) -> frozenset[str]:
        """English and every language with a file (listed once, not read)."""
        if self._languages is None:
            found = {
                entry.name
                for entry in self.folder.iterdir()
                if entry.joinpath("LC_MESSAGES", "messages.po").is_file()
            }
            self._languages = frozenset({DEFAULT_LANGUAGE, *found})
        return self._languages

    def file(self, language: str) -> Traversable:
        """The file holding ``language``'s messages (English: the template)."""
        if language == DEFAULT_LANGUAGE:
            return self.folder / TEMPLATE
        return self.folder.joinpath(language, "LC_MESSAGES", "messages.po")

    def entries(self, language: str) -> dict[str, Entry]:
        """Every message of ``language``'s file by key, read on first use.

        English's are the template's, each message its own translation.
        """
        if language not in self._read:
            self._read[language] = read_entries(self.file(language), language)
        return self._read[language]

    def missing(self, language: str) -> list[str]:
        """Keys that English has and ``language`` lacks or leaves untranslated."""
        have = self.entries(language) if language in self.languages else {}
        return sorted(
            key
            for key in self.entries(DEFAULT_LANGUAGE)
            if key not in have or not have[key].translated
        )

    def placeholders(self, key: str) -> set[str]:
        """The placeholders an English message expects (all its forms)."""
        return placeholders(*self.entries(DEFAULT_LANGUAGE)[key].source)

    def get(self, language: str, key: str, **params: Any) -> str:
        """The message ``key`` in ``language`` with its placeholders filled in.

        Numbers among ``params`` are written the way the language writes them.
        """
        used, entry = self._find(language, key)
        if len(entry.source) > 1:
            raise KeyError(f"'{key}' is a plural message: use Catalogue.plural")
        return self._fill(entry.strings[0], used, params)

    def plural(self, language: str, key: str, count: float, **params: Any) -> str:
        """The form of plural message ``key`` that ``count`` takes in the language.

        Babel's (CLDR's) plural rule of the language chooses the form; ``{count}`` is filled in
        as a number of that language.
        """
        if isinstance(count, float) and count.is_integer():
            count = int(count)  # 1.0 reads as "1 minute", not as a decimal
        used, entry = self._find(language, key)
        if len(entry.source) < 2:
            raise KeyError(f"'{key}' is not a plural message: use Catalogue.get")
        rule = locale_of(used).plural_form
        tags = plural_tags(used)
        return self._fill(entry.strings[tags.index(rule(count))], used, {**params, "count": count})

    def number(self, language: str, value: float | Decimal) -> str:
        """``value`` written the way ``language`` writes numbers (``1,234.5`` in English)."""
        from babel.numbers import format_decimal

        return format_decimal(value, locale=locale_of(language))

    def percent(self, language: str, fraction: float | Decimal) -> str:
        """``fraction`` (0.25) as a percentage the way ``language`` writes it (``25%``)."""
        from babel.numbers import format_percent

        return format_percent(fraction, locale=locale_of(language))

    def date(self, language: str, day: dt.date) -> str:
        """A day the way ``language`` writes it (``1 Mar 2027`` style, per locale)."""
        from babel.dates import format_date

        return format_date(day, "medium", locale=locale_of(language))

    def datetime(self, language: str, moment: dt.datetime) -> str:
        """An aware moment in its own time zone, the way ``language`` writes it.

        Weekday, day, 24-hour time and the zone's name, ordered and named as the language does:
        ``Mon, 1 Mar 2027, 18:30 United Kingdom Time`` in English.
        """
        from babel.dates import format_skeleton, format_time, get_datetime_format

        locale = locale_of(language)
        day = format_skeleton("yMMMEd", moment, tzinfo=moment.tzinfo, locale=locale)
        time = format_time(moment, "HH:mm v", tzinfo=moment.tzinfo, locale=locale)
        pattern = str(get_datetime_format("medium", locale=locale)).replace("'", "")
        return pattern.replace("{0}", time).replace("{1}", day)

    def fallbacks(self, language: str) -> list[str]:
        """The languages tried for a message in ``language``, in order."""
        chain = [language, base(language), self.source, base(self.source), DEFAULT_LANGUAGE]
        return [lang for lang in dict.fromkeys(chain) if lang in self.languages]

    def _find(self, language: str, key: str) -> tuple[str, Entry]:
        for candidate in self.fallbacks(language):
            entry = self.entries(candidate).get(key)
            if entry is not None and entry.translated and has_forms(entry, candidate):
                return candidate, entry
        raise KeyError(f"no message '{key}' in {self.file(DEFAULT_LANGUAGE)}")

    def _fill(self, text: str, language: str, params: dict[str, Any]) -> str:
        shown = {
            name: self.number(language, value) if _is_number(value) else value
            for name, value in params.items()
        }
        return text.format(**shown)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


# The region whose variant of a language formats dates and numbers, where there is one.
REGION = "GB"


def base(language: str) -> str:
    """The base of a language tag: ``en`` of ``en-easy``."""
    return language.split("-")[0]


@cache
def locale_of(language: str) -> Locale:
    """Babel's locale of a language tag; a tag Babel does not know (``en-easy``) is its base's."""
    from babel import Locale, UnknownLocaleError

    # The deployments are in the United Kingdom: British English dates ("1 Jul 2027"), and a
    # language's own British variant wherever the locale data has one.
    for tag in (f"{base(language)}_{REGION}", language.replace("-", "_")):
        try:
            return Locale.parse(tag)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(base(language))


def plural_tags(language: str) -> list[str]:
    """The language's plural categories in the order of its ``msgstr[n]`` (CLDR's order)."""
    rule = locale_of(language).plural_form
    return [tag for tag in PLURAL_TAGS if tag in rule.tags | {"other"}]


def has_forms(entry: Entry, language: str) -> bool:
    """A message has as many strings as the language has plural forms (one if not plural)."""
    if len(entry.source) < 2:
        return len(entry.strings) == 1
    return len(entry.strings) == len(plural_tags(language))


def placeholders(*texts: str) -> set[str]:
    """The names in braces in ``texts``."""
    return {name for text in texts for _, name, _, _ in Formatter().parse(text) if name}


def read_entries(file: Traversable, language: str) -> dict[str, Entry]:
    """The messages of one gettext file by key (``msgctxt``); English reads the template."""
    from babel.messages.pofile import read_po

    with file.open("rb") as stream:
        catalog = read_po(stream, locale=None, charset="utf-8")
    english = language == DEFAULT_LANGUAGE
    found: dict[str, Entry] = {}
    for message in catalog:
        if not message.id or message.context is None:
            continue
        source = _strings(message.id)
        found[message.context] = Entry(
            source,
            source if english else _strings(message.string),
            message.fuzzy and not english,
            message.lineno,
        )
    return found


def _strings(value: object) -> tuple[str, ...]:
    """A message's one string, or its plural strings, as a tuple (empty strings for None)."""
    items = value if isinstance(value, list | tuple) else (value,)
    return tuple(item or "" for item in items)
