"""Opinion groups from the cycle's agree/disagree votes, the Polis way, computed by red-dwarf.

red-dwarf (polis-community/red-dwarf) implements Polis's method: a PCA of the vote matrix,
k-means on the projections with the number of groups chosen by silhouette, then per group the
statements that set it apart (representative) and the statements most people share
(consensus). As in Polis, only people who voted on at least seven statements (every statement
anyone voted on, when there are fewer) are placed in a group. The clustering's random state
is fixed, so one cycle's votes always give the same groups. Group sizes are counts of people:
they go through the disclosure policy (``register``), and the public profile shows only what
it lets through.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from threadpoolctl import threadpool_limits

from exporters.disclosure import Disclosure, Key, Ledger
from exporters.polis import Ballots, Statement

# Polis places in a group only people who voted on at least this many statements.
FEWEST_VOTES = 7
MOST_GROUPS = 5
# Statements listed per group (representative) and per direction (consensus), as Polis does.
PICK = 5
RANDOM_STATE = 0
ALL = "all"
VOTERS: Key = ("opinion", "voters")


@dataclass(frozen=True, slots=True)
class Pick:
    """A statement picked for a group or for everyone, and whether for agreeing or not."""

    statement: Statement
    direction: str  # "agree" or "disagree"
    rank: int  # from 1, most significant first


@dataclass(frozen=True, slots=True)
class OpinionGroup:
    """People who voted alike, and the statements that set them apart from the rest."""

    number: int  # from 1, in red-dwarf's order
    voters: frozenset[int]  # Polis voter ids (``Ballots.pids``)
    representative: tuple[Pick, ...]

    @property
    def size(self) -> Key:
        """The ledger key of the group's size."""
        return ("opinion", "group", str(self.number))


@dataclass(frozen=True, slots=True)
class OpinionGroups:
    """The opinion groups of a cycle, and the statements shared across them."""

    groups: tuple[OpinionGroup, ...]
    consensus: tuple[Pick, ...]

    @property
    def voters(self) -> int:
        """People placed in a group."""
        return sum(len(g.voters) for g in self.groups)

    def polis_groups(self) -> dict[int, int]:
        """Voter id to group id, numbered from 0 as Polis's ``group-id`` column has it."""
        return {pid: g.number - 1 for g in self.groups for pid in g.voters}


NO_GROUPS = OpinionGroups((), ())


def _patterns(ballots: Ballots) -> tuple[int, int] | None:
    """The fewest votes a person needs to be placed, and the ways of voting among them.

    None when there are no groups to seek: PCA needs two statements; k-means needs at least two
    people per group and two ways of voting (red-dwarf's first centres are distinct rows).
    """
    fewest = min(FEWEST_VOTES, len(ballots.first))
    counted = [votes for votes in ballots.latest.values() if len(votes) >= fewest]
    patterns = {tuple(sorted((c, v) for c, (v, _) in votes.items())) for votes in counted}
    if len(ballots.first) < 2 or len(counted) < 4 or len(patterns) < 2:
        return None
    return fewest, len(patterns)


def sought(ballots: Ballots) -> bool:
    """Whether enough people voted on enough statements, in more than one way, to seek groups."""
    return _patterns(ballots) is not None


def opinion_groups(ballots: Ballots) -> OpinionGroups:
    """The opinion groups of ``ballots``; none when too few people voted on enough statements."""
    statements = ballots.by_comment()
    found_patterns = _patterns(ballots)
    if found_patterns is None:
        return NO_GROUPS
    fewest, patterns = found_patterns
    with warnings.catch_warnings():
        # red-dwarf (with pandas and scikit-learn) is loaded only when groups are sought, so
        # the running bot never loads it; its models trip a harmless pydantic warning.
        warnings.simplefilter("ignore")
        from reddwarf.implementations.polis import run_pipeline

    # One thread, as for themes (``exporters.themes``): k-means's threads spin on a busy machine.
    with warnings.catch_warnings(), threadpool_limits(1):
        # Tries of a group count that the votes cannot fill are scored as failures, not errors.
        warnings.simplefilter("ignore")
        found = run_pipeline(
            votes=ballots.records(),
            min_user_vote_threshold=fewest,
            max_group_count=min(MOST_GROUPS, patterns),
            random_state=RANDOM_STATE,
            pick_max=PICK,
        )
    labels = found.participants_df["cluster_id"].dropna()
    groups = []
    for label in sorted({int(v) for v in labels}):
        voters = frozenset(int(pid) for pid, v in labels.items() if int(v) == label)
        picks = tuple(_picks(found.repness.get(label, []), statements))
        groups.append(OpinionGroup(label + 1, voters, picks))
    shared = (
        pick
        for direction in ("agree", "disagree")
        for pick in _picks(found.consensus.get(direction, []), statements, direction)
    )
    return OpinionGroups(tuple(groups), tuple(shared))


def _picks(
    found: Sequence[Mapping[str, object]],
    statements: Mapping[int, Statement],
    direction: str | None = None,
) -> Iterator[Pick]:
    """red-dwarf's picks (``tid``, and ``repful-for`` unless all go one ``direction``)."""
    for rank, item in enumerate(found, 1):
        statement = statements.get(int(str(item["tid"])))
        if statement is not None:
            yield Pick(statement, direction or str(item["repful-for"]), rank)


def register(found: OpinionGroups, ledger: Ledger) -> None:
    """Group sizes as a table of the people placed in a group (a total never shown)."""
    total = ledger.unpublished(VOTERS, found.voters)
    ledger.table(total, [ledger.count(g.size, len(g.voters)) for g in found.groups])


def rows(found: OpinionGroups, disclosure: Disclosure) -> Iterator[tuple[object, ...]]:
    """Rows of the ``opinion_groups`` table: each group's statements, then everyone's."""
    for group in found.groups:
        people = disclosure.value(group.size)
        for pick in group.representative:
            yield (str(group.number), people, "representative", *_cells(pick))
    for pick in found.consensus:
        yield (ALL, None, "consensus", *_cells(pick))


def _cells(pick: Pick) -> tuple[object, ...]:
    return (pick.direction, pick.rank, *pick.statement.step, pick.statement.text)
