"""Which language each person is spoken to in: their choice, else their platform's, else ours.

A choice is kept in memory as soon as it is made, and read back from storage (where it is
kept only once the person consented somewhere) the first time the person is seen after a
start. A person who never chose is spoken to in the language that best fits the locale their
platform reports, else in the deployment's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.core.captures import Capture, LanguageChosen
from bot.core.ids import PersonRef
from bot.core.languages import negotiate
from bot.core.ports import Store

# Locales kept with the language that fits each; past this the memory starts afresh.
_KEEP = 1_000


class Languages:
    """People's chosen languages, and the language each person was last spoken to in."""

    def __init__(self, store: Store, available: Iterable[str], default: str) -> None:
        """Choices stored in ``store``; ``available`` languages; ``default``: the deployment's."""
        self.store = store
        self.available = frozenset(available)
        self.default = default
        self._chosen: dict[PersonRef, str | None] = {}
        self._spoken: dict[PersonRef, str] = {}
        # The language that fits each locale a platform reported (the available ones are fixed).
        self._fits: dict[str, str | None] = {}
        # Counts the changes of a choice (what another answer may be kept by).
        self.changes = 0

    async def chosen(self, person: PersonRef) -> str | None:
        """The language the person chose, if they chose one (read from storage once)."""
        if person in self._chosen:
            return self._chosen[person]
        changes = self.changes
        chosen = await self.store.language(person) if person.user_id else None
        if self.changes == changes:
            self._chosen[person] = chosen
            return chosen
        # Chosen or forgotten meanwhile: the read may be of a language being erased.
        return self._chosen.get(person)

    def speaks(self, person: PersonRef, chosen: str | None, locale: str | None) -> str:
        """The language to speak to ``person`` in, remembered for messages sent to them later."""
        spoken = self._spoken.get(person)
        language = chosen or self._fitting(locale) or spoken or self.default
        if language != spoken and person.user_id:  # one look-up a message once it is known
            self._spoken[person] = language
        return language

    def _fitting(self, locale: str | None) -> str | None:
        """The available language that best fits ``locale``, worked out once for each.

        A platform such as Telegram reports a locale with every message, and negotiating one
        takes longer than the rest of deciding a reply.
        """
        if not locale:
            return None
        fits = self._fits.get(locale)
        if fits is None and locale not in self._fits:
            if len(self._fits) >= _KEEP:
                self._fits.clear()
            fits = self._fits[locale] = negotiate(locale, self.available)
        return fits

    @property
    def spoken(self) -> Mapping[PersonRef, str]:
        """The language each person seen since the start is spoken to in."""
        return self._spoken

    def committed(self, captures: Iterable[Capture]) -> None:
        """Keep the choices among captures just committed (stored or not: see storage)."""
        for capture in captures:
            if isinstance(capture, LanguageChosen):
                self._chosen[capture.person] = capture.language
                self._spoken[capture.person] = capture.language
                self.changes += 1

    def people(self) -> Iterable[PersonRef]:
        """Everyone whose language is kept in memory."""
        return self._chosen.keys() | self._spoken.keys()

    def forget(self, person: PersonRef) -> None:
        """Forget the person's language (they withdrew)."""
        self._chosen.pop(person, None)
        self._spoken.pop(person, None)
        self.changes += 1
