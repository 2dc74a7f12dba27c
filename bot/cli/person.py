"""``dialogue person show|erase``: requests a person makes to staff outside the chat.

Someone may write to staff (by e-mail, say) to see or erase what is held about them. ``show``
prints what ``/mydata`` would tell them; ``erase`` takes the path ``/withdraw confirm`` takes.
Both leave an audit entry that names the person by pseudonym only.
"""

from __future__ import annotations

import argparse
import sys
from zoneinfo import ZoneInfo

from bot.app import App
from bot.core.context import Context
from bot.core.ids import PersonRef
from bot.core.results import describe
from bot.service.shell import utcnow

AUDIT_KIND = "staff_request"


async def run(args: argparse.Namespace, app: App) -> int:
    """Carry out ``dialogue person ...``; an erasure not confirmed changes nothing (status 1)."""
    person = PersonRef(args.platform, args.user_id.strip())
    pseudonym = app.service.pseudonymise(person)
    now = utcnow()
    data = await app.repository.person_data(person)
    if args.action == "show":
        print(describe(data, _context(app)))
        await app.repository.record_audit(
            AUDIT_KIND, now, {"request": "show", "pseudonym": pseudonym}
        )
        return 0
    who = f"{args.platform} user {person.user_id}"
    print(
        f"{who}: {len(data.responses)} replies, {len(data.votes)} answers, "
        f"{len(data.consents)} consents, {len(data.profile)} profile answers are held."
    )
    if not args.yes and not _confirmed(who):
        print("Nothing was erased.")
        return 1
    erasure = await app.service.erase(person, now)
    await app.repository.record_audit(
        AUDIT_KIND,
        now,
        {
            "request": "erase",
            "pseudonym": pseudonym,
            "responses": erasure.responses,
            "votes": erasure.votes,
            "consents": erasure.consents,
        },
    )
    print(
        f"Erased {who}: {erasure.responses} replies, {erasure.votes} answers, "
        f"{erasure.consents} consents. Audit entry: pseudonym {pseudonym}."
    )
    return 0


def _context(app: App) -> Context:
    service = app.service
    return Context(
        library=service.library,
        texts=service.texts,
        now=utcnow(),
        cycle_id=service.cycle_id,
        language=app.settings.content.language,
        zone=ZoneInfo(app.settings.schedule.timezone),
    )


def _confirmed(who: str) -> bool:
    print(f"Type yes to erase everything held about {who}: ", end="", flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() == "yes"
