"""The numbers a cycle publishes: one ledger for all its public outputs.

``dialogue export --profile public`` (tables and report), ``dialogue reach`` and the "what we
heard" card all register every count of the cycle's public outputs (tables, report, reach
section and card) in one ledger and settle it: the decision is derived from the cycle's whole
set of published counts, so it is the same whichever output asks, and a count hidden in one is
hidden in the others. Together they give nothing away that one hides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.content.check import Library
from bot.content.scopes import REQUIRED_SCOPE, Scope
from exporters import aggregates as agg_
from exporters import heard_card, reach
from exporters.aggregates import Aggregates
from exporters.codebook import Codebook
from exporters.disclosure import Disclosure, Ledger
from exporters.pseudonymise import Naming, Pseudonymiser
from exporters.reach import ReachReport
from exporters.schema import ALL_GROUPS
from storage.dataset_records import SessionRow
from storage.datasets import Datasets
from storage.heard import NO_QUOTES
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
    naming: Naming,
    *also: Callable[[Ledger], None],
) -> tuple[Disclosure, Reach | None]:
    """Register the cycle's counts, its reach section and its card, link them, apply the policy.

    ``also`` register more counts in the same ledger (the analyses': opinion groups, themes).
    """
    ledger = Ledger(threshold)
    agg_.register(agg, ledger, codebook.ballots())
    for register in also:
        register(ledger)
    made = await reach.report_for(datasets, library, cycle, language, ledger, naming.group)
    if cycle is not None:
        # The card's counts alone: reading its quotes would open every quotable reply.
        heard = await datasets.heard(cycle, NO_QUOTES)
        heard_card.register(ledger, heard, library, naming.group)
    link(ledger)
    return ledger.settle(), made


async def cycle_disclosure(
    datasets: Datasets,
    library: Library,
    cycle: str,
    language: str,
    threshold: int,
    pseudonymiser: Pseudonymiser,
) -> tuple[Disclosure, Reach | None]:
    """The cycle's one decision for its public outputs, for an output other than the export."""
    naming = Naming(pseudonymiser, public=True)
    agg = await count(datasets, cycle, naming)
    sessions = await datasets.sessions(cycle)
    codebook = await codebook_of(datasets, library, sessions, cycle)
    return await settle(datasets, library, codebook, agg, cycle, language, threshold, naming)


def link(ledger: Ledger) -> None:
    """Counts of the reach section that a reader may take for counts of the tables."""
    ledger.alike(reach.PEOPLE, agg_.EVERYONE)
    ledger.alike(reach.PEOPLE, agg_.people(ALL_GROUPS))
    ledger.alike(reach.PEOPLE, agg_.consents(ALL_GROUPS, REQUIRED_SCOPE))
    ledger.alike(reach.PROFILE, agg_.consents(ALL_GROUPS, Scope.PROFILE))
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
        agg.replies_of(
            [naming.group(reply.group) for reply in page],
            [(reply.script_id or "", reply.step_id) for reply in page],
            [naming.pseudonym(reply.person) for reply in page],
            [reply.posted_at.date() for reply in page],
        )
    async for vote in datasets.votes(cycle):
        key = (vote.script_id or "", vote.step_id)
        agg.vote(naming.group(vote.group), key, naming.pseudonym(vote.person), vote.options)
    return agg


async def codebook_of(
    datasets: Datasets, library: Library, sessions: Sequence[SessionRow], cycle: str | None
) -> Codebook:
    """The versions the export's answers were given on: sessions' own, and residents'."""
    residents = await datasets.resident_versions(cycle)
    ran = [(s.script_id, s.content_version) for s in sessions]
    digests = {d for _, d in ran if d} | set(residents.values())
    return Codebook.of(library, ran, await datasets.content_versions(digests))
