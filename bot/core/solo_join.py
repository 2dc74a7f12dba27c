"""Starting a self-paced dialogue: the open cycle's script, consent first, then the first step."""

from __future__ import annotations

from dataclasses import replace

from bot.content.models import Script
from bot.content.scopes import REQUIRED_SCOPE, SCOPES
from bot.content.version import Version
from bot.core import consent, schedule, solo_steps
from bot.core.actions import Button, SendPrivate
from bot.core.captures import Capture, ConsentRecorded, ContentUsed, SessionSaved, SoloSaved
from bot.core.context import Actor, Context, Transition
from bot.core.desk import ACTIVE, DONE, SoloState
from bot.core.direct import COMMAND, direct_group, session_id
from bot.core.solo_view import offered, present, say
from bot.core.state import SessionState, Status


def script_for(ctx: Context) -> Script | None:
    """The open cycle's self-paced script: the first (by id) it offers with self-paced steps.

    In the resident's language, where it is translated into it.
    """
    scripts = ctx.library.scripts
    found = next(
        (s for s in schedule.startable(ctx) if any(x.self_paced for x in scripts[s].steps)),
        None,
    )
    return None if found is None else ctx.script(found, None, ctx.language)


def current_script(actor: Actor, ctx: Context) -> Script | None:
    """The script of the actor's self-paced dialogue, if it still has the step they are at."""
    solo = actor.desk.solo
    script = ctx.script(solo.script_id, solo.content_version, ctx.language) if solo else None
    if solo is None or script is None or not 0 <= solo.step_index < len(script.steps):
        return None
    return script


def join(
    state: SessionState | None, args: tuple[str, ...], actor: Actor, ctx: Context
) -> Transition:
    """``/join [CYCLE] [agree SCOPES]``: consent first, then begin or pick up where it was."""
    words = [a.lower() for a in args]
    if words and words[0] != "agree":
        if words[0] != ctx.cycle_id:
            return closed(state, actor, ctx)
        words = words[1:]
    script = script_for(ctx)
    if script is None:
        return say(state, actor, ctx.t("solo.none_open"))
    solo = actor.desk.solo
    if solo is not None and solo.cycle_id != ctx.cycle_id:
        solo = None  # an earlier cycle's dialogue: this cycle's starts afresh
    if words[:1] == ["agree"]:
        agreed = consent.handle(state, "agree", tuple(words[1:]), actor, ctx)
        recorded = [c for c in agreed.captures if isinstance(c, ConsentRecorded)]
        if not recorded:
            return agreed  # a usage reply: which scopes there are
        now = replace(actor, scopes=recorded[0].scopes, desk=replace(actor.desk, solo=solo))
        going = go(state, solo, script, now, ctx)
        return Transition(
            going.state, agreed.actions + going.actions, agreed.captures + going.captures
        )
    if REQUIRED_SCOPE not in actor.scopes:
        return offer(state, script, actor, ctx)
    return go(state, solo, script, replace(actor, desk=replace(actor.desk, solo=solo)), ctx)


def go(
    state: SessionState | None, solo: SoloState | None, script: Script, actor: Actor, ctx: Context
) -> Transition:
    """Begin this cycle's dialogue, or pick it up where it was."""
    if solo is not None and solo.status == DONE:
        return say(state, actor, ctx.t("solo.finished"))
    ran = current_script(actor, ctx) if solo is not None else None
    if solo is not None and ran is not None:
        return solo_steps.resume(state, solo, ran, actor, ctx)
    steps = offered(script)
    version = ctx.library.version(script)
    session, saved = _session(state, script, version, ctx)
    begun = SoloState(
        actor.person,
        ctx.cycle_id,
        script.id,
        script.version,
        steps[0],
        ACTIVE,
        ctx.now,
        content_version=version.digest,
    )
    lead = ctx.t("solo.begin", title=script.title, steps=ctx.n("count.steps", len(steps)))
    captures = (ContentUsed(version, ctx.now), *saved, SoloSaved(begun))
    return Transition(session, present(begun, script, actor, ctx, lead), captures)


def _session(
    state: SessionState | None, script: Script, version: Version, ctx: Context
) -> tuple[SessionState, tuple[Capture, ...]]:
    """The cycle's direct session, started (and saved) with the first resident if need be."""
    if state is not None and state.live and state.session_id is not None:
        return state, ()
    started = SessionState(
        group=direct_group(ctx.cycle_id),
        status=Status.RUNNING,
        session_id=session_id(ctx.cycle_id),
        cycle_id=ctx.cycle_id,
        script_id=script.id,
        script_version=script.version,
        content_version=version.digest,
        started_at=ctx.now,
    )
    return started, (SessionSaved(started),)


def offer(state: SessionState | None, script: Script, actor: Actor, ctx: Context) -> Transition:
    """What taking part means, with buttons to agree for the self-paced dialogue."""
    text = ctx.library.consent_in(ctx.language)
    if text is None:
        return say(state, actor, ctx.t("consent.which_group"))
    everything = " ".join(SCOPES)
    buttons = tuple(
        Button(ctx.t(label), f"{COMMAND} agree {scopes}", f"/{COMMAND} agree {scopes}")
        for label, scopes in (
            ("consent.button_all", everything),
            ("consent.button_participate", REQUIRED_SCOPE),
        )
    )
    parts = [
        ctx.t("solo.welcome", title=script.title, steps=ctx.n("count.steps", len(offered(script)))),
        ctx.t("consent.header", version=text.version),
        text.full_text(solo=True),
        ctx.t("solo.how_to_agree", command=COMMAND),
    ]
    return Transition(state, (SendPrivate(actor.person, "\n\n".join(parts), buttons=buttons),))


def closed(state: SessionState | None, actor: Actor, ctx: Context) -> Transition:
    """The invitation's cycle is not the open one: say so, and offer the open one's, if any."""
    script = script_for(ctx)
    if script is None:
        return say(state, actor, ctx.t("solo.closed"))
    again = Button(ctx.t("solo.join_button"), COMMAND, f"/{COMMAND}")
    text = ctx.t("solo.closed_join", title=script.title)
    return Transition(state, (SendPrivate(actor.person, text, buttons=(again,)),))
