"""The optional profile (/profile): questions asked privately, one at a time, each skippable.

Only people who agreed to the ``profile`` scope are asked, and only their answers are stored;
anyone can see and delete what is stored at any time. The person's stored answers come in on
the Actor (the service loads them for /profile only).
"""

from __future__ import annotations

from dataclasses import replace

from bot.content.profile import ProfileQuestion, ProfileQuestions, answer_in
from bot.content.scopes import Scope
from bot.core.actions import Action, Button, SendPrivate
from bot.core.captures import Capture, ProfileAnswered, ProfileDeleted, SoloSaved
from bot.core.context import Actor, Context, Transition, private, reply
from bot.core.desk import Desk
from bot.core.events import ButtonPressed, CommandIssued, Event, MessagePosted
from bot.core.records import ProfileAnswer
from bot.core.state import SessionState
from bot.core.text import gist

COMMAND = "profile"
SCOPE = Scope.PROFILE
ANSWERING = frozenset({"start", "change", "answer", "skip"})


def handle(
    state: SessionState | None, args: tuple[str, ...], actor: Actor, ctx: Context, private: bool
) -> Transition:
    """One /profile command or button; ``private`` says it came in the private chat.

    A resident in a self-paced dialogue has the question asked of them remembered (see
    ``SoloState.question``), so what they type next answers it (``typed``).
    """
    done = _handle(state, args, actor, ctx, private)
    solo = actor.desk.solo
    if solo is None or not solo.open or not private:
        return done
    asked = _asked(done.actions, solo.question)
    if asked == solo.question:
        return done
    return replace(done, captures=(*done.captures, SoloSaved(replace(solo, question=asked))))


def typed(state: SessionState | None, text: str, actor: Actor, ctx: Context) -> Transition:
    """What a resident typed while a profile question waits: its answer, by number or words.

    Never a reply: anything else asks the question again, and nothing is stored.
    """
    questions = ctx.library.profile_in(ctx.language)
    solo = actor.desk.solo
    question = questions.question(solo.question) if questions and solo and solo.question else None
    if questions is None or question is None:
        return handle(state, ("start",), actor, ctx, private=True)
    said = " ".join(text.casefold().split())
    choices = [c.casefold() for c in questions.choices(question)]
    number = next((n for n, c in enumerate(choices, 1) if said in (str(n), c)), None)
    if number is None:
        lead = ctx.t("profile.answer_usage", count=len(choices), id=question.id)
        return Transition(state, (ask(questions, question, actor, ctx, lead),))
    return handle(state, ("answer", question.id, str(number)), actor, ctx, private=True)


def _asked(actions: tuple[Action, ...], waiting: str | None) -> str | None:
    """The question the last of these actions asks; ``waiting`` stays if none speaks."""
    for action in reversed(actions):
        if isinstance(action, SendPrivate):
            found = [b.payload.split() for b in action.buttons]
            return next((p[2] for p in found if p[:2] == [COMMAND, "answer"]), None)
    return waiting


def _handle(
    state: SessionState | None, args: tuple[str, ...], actor: Actor, ctx: Context, private: bool
) -> Transition:
    questions = ctx.library.profile_in(ctx.language)
    if questions is None:
        return reply(state, actor, ctx.t("profile.unavailable"))
    action = args[0].lower() if args else "show"
    rest = args[1:]
    if action == "show":
        return Transition(state, (review(questions, actor, ctx),))
    if action == "delete":
        return _delete(state, questions, rest, actor, ctx)
    if action not in ANSWERING:
        return reply(state, actor, ctx.t("profile.usage"))
    if SCOPE not in actor.scopes:
        return reply(state, actor, ctx.t("profile.no_consent"))
    answers = _answers(actor)
    if action == "start":
        return Transition(state, (_next(questions, answers, actor, ctx, ""),))
    question = _find(questions, rest[:1])
    if question is None:
        return _unknown(state, rest, actor, ctx)
    if action == "change":
        return Transition(state, (ask(questions, question, actor, ctx),))
    if action == "skip":
        answer = None
        said = ctx.t("profile.skipped", label=question.label)
    else:
        if not private:
            # A typed answer in the group would tell everyone; keep it out of the store too.
            lead = ctx.t("profile.answer_privately")
            return Transition(state, (ask(questions, question, actor, ctx, lead),))
        choices = questions.choices(question)
        number = rest[1] if len(rest) > 1 else ""
        if not (number.isdecimal() and number.isascii() and 1 <= int(number) <= len(choices)):
            usage = ctx.t("profile.answer_usage", count=len(choices), id=question.id)
            return reply(state, actor, usage)
        said = ctx.t("profile.recorded", label=question.label, answer=choices[int(number) - 1])
        # Stored as the source's option, whatever language it was chosen in (same number).
        source = _source(ctx, questions)
        answer = _stored(source, question.id, int(number))
    capture = ProfileAnswered(actor.person, question.id, answer, ctx.now)
    answers = {**answers, question.id: answer}
    return Transition(state, (_next(questions, answers, actor, ctx, said),), (capture,))


def wanted(event: Event, desk: Desk) -> bool:
    """Whether handling ``event`` needs the person's stored answers.

    A /profile command, or a message typed while a profile question waits for its answer.
    """
    if isinstance(event, MessagePosted):
        return desk.solo is not None and desk.solo.question is not None
    if isinstance(event, CommandIssued):
        return event.name.lower() == COMMAND
    if isinstance(event, ButtonPressed):
        return event.payload.split()[:1] == [COMMAND]
    return False


def mydata_lines(answers: tuple[ProfileAnswer, ...], ctx: Context) -> list[str]:
    """The profile part of /mydata: every stored answer, by its question's words where known."""
    if not answers:
        return []
    questions = ctx.library.profile_in(ctx.language)
    asked = {q.id: gist(q.text) for q in questions.questions} if questions else {}
    lines = [ctx.t("profile.mydata", count=len(answers))]
    for a in answers:
        answer = ctx.t("profile.skipped_mark") if a.answer is None else a.answer
        if questions is not None and a.answer is not None:
            answer = answer_in(_source(ctx, questions), questions, a.question_id, a.answer)
        question = asked.get(a.question_id) or ctx.t("mydata.unknown_question")
        lines.append(ctx.t("profile.mydata_answer", question=question, answer=answer))
    return lines


def after_consent(
    actor: Actor, scopes: frozenset[str], ctx: Context
) -> tuple[tuple[Action, ...], tuple[Capture, ...]]:
    """What agreeing to ``scopes`` means for the profile.

    Newly agreeing to the profile brings a private invitation (not the questions themselves);
    dropping it deletes the answers, unless the person keeps the scope in another group.
    """
    questions = ctx.library.profile_in(ctx.language)
    had = SCOPE in actor.scopes
    if SCOPE in scopes and not had and questions is not None:
        start = Button(ctx.t("profile.start_button"), f"{COMMAND} start", f"/{COMMAND} start")
        text = ctx.t("profile.invite", questions=ctx.n("count.questions", len(questions.questions)))
        return (SendPrivate(actor.person, text, actor.group, (start,)),), ()
    if had and SCOPE not in scopes:
        return (), (ProfileDeleted(actor.person, None, unless_consented=True),)
    return (), ()


def ask(
    questions: ProfileQuestions,
    question: ProfileQuestion,
    actor: Actor,
    ctx: Context,
    lead: str = "",
) -> SendPrivate:
    """One question with a button per answer and one to skip it; ``lead`` goes first."""
    number = questions.questions.index(question) + 1
    parts = [
        lead,
        ctx.t(
            "profile.question", number=number, count=len(questions.questions), text=question.text
        ),
        question.help,
        ctx.t("profile.how_to", id=question.id),
    ]
    buttons = [
        Button(label, f"{COMMAND} answer {question.id} {n}", f"/{COMMAND} answer {question.id} {n}")
        for n, label in enumerate(questions.choices(question), start=1)
    ]
    buttons.append(
        Button(
            ctx.t("profile.skip_button"),
            f"{COMMAND} skip {question.id}",
            f"/{COMMAND} skip {question.id}",
        )
    )
    return SendPrivate(
        actor.person, "\n\n".join(p for p in parts if p), actor.group, tuple(buttons)
    )


def review(questions: ProfileQuestions, actor: Actor, ctx: Context) -> SendPrivate:
    """The person's answers, question by question, with how to change or delete them."""
    answers = _answers(actor)
    if not answers:
        lines = [ctx.t("profile.none")]
    else:
        lines = [ctx.t("profile.review_header")]
        for number, question in enumerate(questions.questions, start=1):
            lines.append(
                ctx.t(
                    "profile.review_line",
                    number=number,
                    label=question.label,
                    answer=_shown(answers, question.id, questions, ctx),
                )
            )
        known = {q.id for q in questions.questions}
        for question_id in sorted(set(answers) - known):
            shown = _shown(answers, question_id, questions, ctx)
            lines.append(ctx.t("profile.review_old", question=question_id, answer=shown))
        lines.append(ctx.t("profile.review_footer"))
    buttons: list[Button] = []
    if SCOPE not in actor.scopes:
        lines.append(ctx.t("profile.no_consent"))
    elif any(q.id not in answers for q in questions.questions):
        lines.append(ctx.t("profile.review_answer_more"))
        start = Button(ctx.t("profile.start_button"), f"{COMMAND} start", f"/{COMMAND} start")
        buttons.append(start)
    if answers:
        wipe = f"{COMMAND} delete all"
        buttons.append(Button(ctx.t("profile.delete_button"), wipe, f"/{wipe}"))
    return SendPrivate(actor.person, "\n".join(lines), actor.group, tuple(buttons))


def _delete(
    state: SessionState | None,
    questions: ProfileQuestions,
    rest: tuple[str, ...],
    actor: Actor,
    ctx: Context,
) -> Transition:
    answers = _answers(actor)
    if not rest:
        return reply(state, actor, ctx.t("profile.usage"))
    if rest[0].lower() == "all":
        if not answers:
            return reply(state, actor, ctx.t("profile.nothing_to_delete"))
        gone = ProfileDeleted(actor.person)
        return Transition(state, (private(actor, ctx.t("profile.deleted_all")),), (gone,))
    question = _find(questions, rest[:1])
    question_id = question.id if question else rest[0]
    if question_id not in answers:
        if question is None:
            return _unknown(state, rest, actor, ctx)
        return reply(state, actor, ctx.t("profile.nothing_to_delete"))
    label = question.label if question else question_id
    gone = ProfileDeleted(actor.person, question_id)
    return Transition(state, (private(actor, ctx.t("profile.deleted_one", label=label)),), (gone,))


def _next(
    questions: ProfileQuestions,
    answers: dict[str, str | None],
    actor: Actor,
    ctx: Context,
    lead: str,
) -> SendPrivate:
    """The first question not answered or skipped yet, or the thanks when none is left."""
    for question in questions.questions:
        if question.id not in answers:
            return ask(questions, question, actor, ctx, lead)
    text = "\n\n".join(p for p in (lead, ctx.t("profile.done")) if p)
    return private(actor, text)


def _find(questions: ProfileQuestions, args: tuple[str, ...]) -> ProfileQuestion | None:
    """A question by its id or its number in the review."""
    if not args:
        return None
    wanted = args[0]
    if wanted.isdecimal() and wanted.isascii() and 1 <= int(wanted) <= len(questions.questions):
        return questions.questions[int(wanted) - 1]
    return questions.question(wanted.lower())


def _answers(actor: Actor) -> dict[str, str | None]:
    return {a.question_id: a.answer for a in actor.profile}


def _shown(
    answers: dict[str, str | None], question_id: str, questions: ProfileQuestions, ctx: Context
) -> str:
    if question_id not in answers:
        return ctx.t("profile.not_answered")
    answer = answers[question_id]
    if answer is None:
        return ctx.t("profile.skipped_mark")
    return answer_in(_source(ctx, questions), questions, question_id, answer)


def _source(ctx: Context, shown: ProfileQuestions) -> ProfileQuestions:
    """The profile in the source language, whose options are what is stored."""
    return ctx.library.profiles.get(ctx.library.language, shown)


def _stored(source: ProfileQuestions, question_id: str, number: int) -> str:
    question = source.question(question_id)
    assert question is not None  # a translation has the source's questions, no others
    return source.choices(question)[number - 1]


def _unknown(
    state: SessionState | None, rest: tuple[str, ...], actor: Actor, ctx: Context
) -> Transition:
    if not rest:
        return reply(state, actor, ctx.t("profile.usage"))
    return reply(state, actor, ctx.t("profile.unknown_question", question=rest[0]))
