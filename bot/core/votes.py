"""Reading a typed answer: '/vote 2', '/vote 1,3', or '/vote heard 1' for a feedback question."""

from __future__ import annotations

from bot.content.models import QUESTION_SEPARATOR, Step


def parse_options(args: tuple[str, ...]) -> tuple[int, ...]:
    """Option numbers from '/vote 2', '/vote 1,3' or '/vote 1 3' (empty if any is not a number)."""
    pieces = [p for arg in args for p in arg.replace(",", " ").split()]
    if not all(p.isdecimal() and p.isascii() for p in pieces):
        return ()
    return tuple(int(p) for p in pieces)


def typed(step: Step | None, args: tuple[str, ...]) -> tuple[str | None, tuple[int, ...]]:
    """The ballot a typed '/vote' answers (None: the step itself) and the options chosen.

    At a feedback step the first word names the question ('/vote heard 1').
    """
    if step is not None and step.kind == "feedback" and args and not args[0][:1].isdigit():
        return f"{step.id}{QUESTION_SEPARATOR}{args[0].lower()}", parse_options(args[1:])
    return None, parse_options(args)
