"""The numbers a cycle publishes: one ledger for its public export, report and reach section.

``dialogue export --profile public`` and ``dialogue reach`` both settle the same ledger for a
cycle, so a count hidden in one is hidden in the other: together they give nothing away that
either hides.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.content.check import Library
from exporters import aggregates as agg_
from exporters import reach
from exporters.aggregates import Aggregates
from exporters.codebook import Codebook
from exporters.disclosure import Disclosure, Ledger
from exporters.pseudonymise import Naming
from exporters.reach import ReachReport
from exporters.schema import ALL_GROUPS
from storage.datasets import Datasets
from storage.reach import SessionReplies

Reach = Callable[[Disclosure, Callable[[SessionReplies], str]], ReachReport]


async def settle(
    datasets: Datasets,
    library: Library,
    codebook: Codebook,
    agg: Aggregates,
    cycle: str | None,
    language: str,
    threshold: int,
    *also: Callable[[Ledger], None],
) -> tuple[Disclosure, Reach | None]:
    """Register the cycle's counts and its reach section, link them, and apply the policy.

    ``also`` register more counts in the same ledger (the analyses': opinion groups, themes).
    """
    ledger = Ledger(threshold)
    agg_.register(agg, ledger, codebook.ballots())
    for register in also:
        register(ledger)
    made = await reach.report_for(datasets, library, cycle, language, ledger)
    link(ledger)
    return ledger.settle(), made


def link(ledger: Ledger) -> None:
    """Counts of the reach section that a reader may take for counts of the tables."""
    ledger.alike(reach.PEOPLE, agg_.EVERYONE)
    ledger.alike(reach.PEOPLE, agg_.people(ALL_GROUPS))
    ledger.alike(reach.PEOPLE, agg_.consents(ALL_GROUPS, "participate"))
    ledger.alike(reach.PROFILE, agg_.consents(ALL_GROUPS, "profile"))
    ledger.alike(reach.REPLIES, agg_.ALL_REPLIES)


async def count(datasets: Datasets, cycle: str, naming: Naming) -> Aggregates:
    """A cycle's counts as its export gathers them, without writing anything."""
    sessions = await datasets.sessions(cycle)
    first = min((s.started_at for s in sessions if s.started_at), default=None)
    back = await datasets.returning(cycle, first) if first else []
    agg = Aggregates(returning_people={naming.pseudonym(p) for p, _ in back})
    async for row in datasets.participants(cycle):
        agg.consent(naming.group(row.group), row.scopes)
    async for page in datasets.responses(sessions):
        for reply in page:
            key = (reply.script_id or "", reply.step_id)
            person = naming.pseudonym(reply.person)
            agg.reply(naming.group(reply.group), key, person, reply.posted_at.date())
    async for vote in datasets.votes(cycle):
        key = (vote.script_id or "", vote.step_id)
        agg.vote(naming.group(vote.group), key, naming.pseudonym(vote.person), vote.options)
    return agg
