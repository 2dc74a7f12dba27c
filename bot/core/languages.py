"""Languages: naming them, the best one for a platform's locale, and the ``/language`` command.

A person is spoken to privately in their own language, and a group session's posts are in the
session's. ``/language`` shows a button per language the bot speaks; ``/language CODE`` sets
the person's own (in a group too: it is for their private messages), or, said by a facilitator
in a group while a session runs, the session's. The choice is a capture that storage keeps only
for someone who consented (until then the service keeps it in memory: ``bot.service.languages``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.core.actions import Button, SendText
from bot.core.captures import LanguageChosen, SessionSaved
from bot.core.context import Actor, Context, Transition, private, reply
from bot.core.state import SessionState

if TYPE_CHECKING:
    from babel import Locale

COMMAND = "language"
# Variants of a language the bot may speak (BCP 47 private use): their names are catalogue
# messages, as Babel knows none (``en-easy`` is Easy Read English).
VARIANTS = frozenset({"easy"})


def babel_locale(code: str) -> Locale | None:
    """The Babel locale of a language code (``en-easy`` speaks as ``en``), or None if unknown."""
    from babel import Locale, UnknownLocaleError  # when a language is named: not at start

    base, _, variant = code.partition("-")
    try:
        return Locale.parse(base if variant in VARIANTS else code, sep="-")
    except (UnknownLocaleError, ValueError):
        return None


def name(code: str, ctx: Context) -> str:
    """The language's name in the language itself: "বাংলা", "English (Easy Read)"."""
    locale = babel_locale(code)
    shown = (locale.get_display_name(locale) if locale else None) or code
    variant = code.partition("-")[2]
    if variant in VARIANTS:
        return ctx.texts.get(
            code,
            "language.named_variant",
            name=shown,
            variant=ctx.texts.get(code, f"language.variant_{variant}"),
        )
    return shown


def negotiate(hint: str | None, available: Iterable[str]) -> str | None:
    """The available language that best fits a platform's locale (``bn-BD``, ``pt_BR``)."""
    if not hint:
        return None
    from babel.core import negotiate_locale  # when a platform names a locale: not at start

    # Variants are chosen, never guessed from a locale.
    plain = sorted(code for code in available if code.partition("-")[2] not in VARIANTS)
    return negotiate_locale([hint.replace("_", "-").lower()], plain, sep="-")


def handle(
    state: SessionState | None, args: tuple[str, ...], actor: Actor, ctx: Context
) -> Transition:
    """``/language``: the choices; ``/language CODE``: the person's, or the session's."""
    if not args:
        return _choices(state, actor, ctx)
    code = args[0].lower().replace("_", "-")
    if code not in ctx.languages:
        return reply(
            state,
            actor,
            ctx.t("language.unknown", code=args[0], languages=", ".join(ctx.languages)),
        )
    if actor.group is not None and actor.facilitator and state is not None and state.live:
        return _for_session(state, code, ctx)
    told = ctx.speaking(code)
    lines = [told.t("language.chosen", name=name(code, ctx))]
    if actor.group is not None:
        lines.append(told.t("language.chosen_in_group"))
    chosen = LanguageChosen(actor.person, code, ctx.now)
    return Transition(state, (private(actor, "\n".join(lines)),), (chosen,))


def _choices(state: SessionState | None, actor: Actor, ctx: Context) -> Transition:
    buttons = tuple(
        Button(name(code, ctx), f"{COMMAND} {code}", f"/{COMMAND} {code}", private=True)
        for code in ctx.languages
    )
    lines = [ctx.t("language.current", name=name(ctx.language, ctx))]
    if actor.group is not None and actor.facilitator:
        lines.append(ctx.t("language.session", name=name(ctx.group_language, ctx)))
    lines.append(ctx.t("language.choose"))
    return Transition(state, (replace(private(actor, "\n".join(lines)), buttons=buttons),))


def _for_session(state: SessionState, code: str, ctx: Context) -> Transition:
    changed = replace(state, language=code)
    told = ctx.texts.get(code, "language.session_set", name=name(code, ctx))
    return Transition(changed, (SendText(state.group, told),), (SessionSaved(changed),))
