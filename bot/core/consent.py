"""Consent commands: read the consent text, agree to scopes, see or erase one's data."""

from __future__ import annotations

from dataclasses import replace

from bot.content.scopes import REQUIRED_SCOPE, SCOPES, in_order, unknown
from bot.core import profile
from bot.core.actions import Button, SendPrivate
from bot.core.captures import ConsentRecorded, LanguageChosen
from bot.core.context import Actor, Context, Transition, reply
from bot.core.direct import is_direct
from bot.core.effects import DataRequested, ErasureRequested
from bot.core.events import Event, MessageEdited, MessagePosted
from bot.core.state import SessionState

COMMANDS = frozenset({"consent", "agree", "withdraw", "mydata"})


def handle(
    state: SessionState | None, name: str, args: tuple[str, ...], actor: Actor, ctx: Context
) -> Transition:
    """Answer one consent command; replies always go privately."""
    if name == "mydata":
        return Transition(state, effects=(DataRequested(actor.person),))
    if name == "withdraw":
        if [a.lower() for a in args] == ["confirm"]:
            return Transition(state, effects=(ErasureRequested(actor.person),))
        label = ctx.t("withdraw.button")
        confirm = Button(label, f"{name} confirm", f"/{name} confirm")
        ask = ctx.t("withdraw.ask", button=label)
        return Transition(state, (SendPrivate(actor.person, ask, actor.group, (confirm,)),))
    text = ctx.library.consent_in(ctx.language)
    if actor.group is None or text is None:
        return reply(state, actor, ctx.t("consent.which_group"))
    if name == "consent":
        everything = " ".join(SCOPES)
        buttons = (
            Button(ctx.t("consent.button_all"), f"agree {everything}", f"/agree {everything}"),
            Button(
                ctx.t("consent.button_participate"),
                f"agree {REQUIRED_SCOPE}",
                f"/agree {REQUIRED_SCOPE}",
            ),
        )
        body = "\n\n".join(
            [
                ctx.t("consent.header", version=text.version),
                text.full_text(),
                ctx.t("consent.how_to"),
            ]
        )
        return Transition(state, (SendPrivate(actor.person, body, actor.group, buttons),))
    scopes = parse_scopes(args)
    strange = unknown(scopes)
    if not scopes:
        return reply(state, actor, ctx.t("consent.usage"))
    if strange:
        return reply(
            state,
            actor,
            ctx.t("consent.unknown_scope", scopes=", ".join(strange), valid=", ".join(SCOPES)),
        )
    if REQUIRED_SCOPE not in scopes:
        return reply(state, actor, ctx.t("consent.need_participate", rest=" ".join(sorted(scopes))))
    ordered = in_order(scopes)
    # Consent belongs to the whole chat, even when given from a session in one of its topics.
    # The hash and language of the text the person read: the one in their language.
    record = ConsentRecorded(
        actor.person,
        actor.group.whole,
        frozenset(scopes),
        text.version,
        text.digest(solo=is_direct(actor.group)),
        ctx.now,
        text.language,
    )
    # A language chosen before consenting was kept in memory only; it is stored now.
    language = actor.chosen_language
    chosen = (LanguageChosen(actor.person, language, ctx.now),) if language else ()
    thanks = SendPrivate(
        actor.person, ctx.t("consent.agreed", scopes=", ".join(ordered)), actor.group
    )
    invited, dropped = profile.after_consent(actor, frozenset(scopes), ctx)
    return Transition(state, (thanks, *invited), (record, *chosen, *dropped))


def parse_scopes(args: tuple[str, ...]) -> frozenset[str]:
    """Scope names from '/agree participate quote' or '/agree participate,quote'."""
    return frozenset(p.lower() for a in args for p in a.replace(",", " ").split())


def gate(event: Event, scopes: frozenset[str]) -> Event:
    """The event as the engine may see it: without the words of anyone who has not consented."""
    if REQUIRED_SCOPE in scopes:
        return event
    if isinstance(event, MessagePosted | MessageEdited):
        return replace(event, text="")
    return event
