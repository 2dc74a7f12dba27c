"""How a self-paced step looks in a private chat: its wording, its cards, its buttons.

Every button has its text-command twin, so the dialogue works where buttons do not.
"""

from __future__ import annotations

from bot.content import heard
from bot.content.models import QUESTION_SEPARATOR, Script, Step
from bot.core.actions import Action, Button, SendPrivate
from bot.core.context import Actor, Context, Transition
from bot.core.desk import DONE, SoloState
from bot.core.state import SessionState

ANSWERED_KINDS = frozenset({"prompt", "choice", "feedback"})


def offered(script: Script) -> list[int]:
    """The positions of a script's self-paced steps."""
    return [n for n, step in enumerate(script.steps) if step.self_paced]


def say(state: SessionState | None, actor: Actor, text: str) -> Transition:
    """A short private answer that changes nothing."""
    return Transition(state, (SendPrivate(actor.person, text),))


def controls(step: Step, solo: SoloState, ctx: Context) -> tuple[Button, ...]:
    """Tell me more (when there is more), Skip or Next, and Stop for now."""
    if solo.status == DONE:
        return ()
    found: list[Button] = []
    if step.cards or step.self_paced_more:
        found.append(Button(ctx.t("solo.more_button"), "more", "/more"))
    if step.kind in ANSWERED_KINDS and not solo.answered:
        found.append(Button(ctx.t("solo.skip_button"), "skip", "/skip"))
    else:
        found.append(Button(ctx.t("solo.next_button"), "next", "/next"))
    found.append(Button(ctx.t("solo.stop_button"), "stop", "/stop"))
    return tuple(found)


def present(
    solo: SoloState, script: Script, actor: Actor, ctx: Context, lead: str = ""
) -> tuple[Action, ...]:
    """The step a resident is at, in one private message (one more per feedback question)."""
    step = script.steps[solo.step_index]
    steps = offered(script)
    number = steps.index(solo.step_index) + 1 if solo.step_index in steps else len(steps)
    shows = ctx.cards(solo.content_version, ctx.language)
    text = step.self_paced_text or heard.fill(step.text, shows)
    parts = [lead.strip(), ctx.t("solo.step", number=number, count=len(steps)), text.strip()]
    for card_id in step.cards:
        card = shows.get(card_id)
        if card is not None:
            parts.append(ctx.t("solo.card", title=card.title, summary=card.summary))
    buttons = controls(step, solo, ctx)
    person = actor.person
    if step.kind == "choice":
        parts += _options(step.choices())
        hint = "solo.choice_hint_multiple" if step.multiple else "solo.choice_hint"
        parts.append(ctx.t(hint))
        return (SendPrivate(person, _join(parts), buttons=_answers(step, "") + buttons),)
    if step.kind != "feedback":
        return (SendPrivate(person, _join(parts), buttons=buttons),)
    actions: list[Action] = [SendPrivate(person, _join(parts))]
    for ballot in step.ballots():
        question = ballot.id.rpartition(QUESTION_SEPARATOR)[2]
        lines = [ballot.text, *_options(ballot.choices()), ctx.t("feedback.hint", id=question)]
        answers = _answers(ballot, f"{question} ")
        actions.append(SendPrivate(person, _join(lines), buttons=answers))
    actions.append(SendPrivate(person, ctx.t("solo.then"), buttons=buttons))
    return tuple(actions)


def _options(choices: tuple[str, ...]) -> list[str]:
    return ["\n".join(f"{n}. {label}" for n, label in enumerate(choices, start=1))]


def _answers(ballot: Step, typed: str) -> tuple[Button, ...]:
    toggle = " t" if ballot.multiple else ""
    return tuple(
        Button(label, f"ballot {ballot.id} {n}{toggle}", f"/vote {typed}{n}")
        for n, label in enumerate(ballot.choices(), start=1)
    )


def _join(parts: list[str]) -> str:
    return "\n\n".join(p for p in parts if p)
