"""One disclosure policy for every public number.

With a threshold ``t``:
- a count from 1 to t - 1 is hidden and described as "fewer than t" (it truly is);
- a table whose total is from 1 to t - 1 is withheld whole, zeros too, so that no zero
  points at the few people the total counts;
- a count hidden only to protect another is described as "hidden", never as a range;
- secondary suppression: each published sum (a total and the cells it adds up, or two numbers
  a reader can tell are the same people) hides none or at least two of its terms, and then the
  audit (``exporters.audit``) hides more until no hidden count can be narrowed below the
  policy's range from everything published beside it.

Every output of one run registers its counts in one ``Ledger`` under keys naming what is
counted, so one count has one state in every table, chart, percentage and sentence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from exporters.audit import Finding, Publication, Share, Sum, audit, linked

Key = tuple[str, ...]

DEFAULT_THRESHOLD = 10


class DisclosureError(Exception):
    """A public output whose numbers would give a hidden count away; it must not go out."""

    def __init__(self, what: str, findings: Sequence[Finding]) -> None:
        self.findings = tuple(findings)
        reasons = "; ".join(f.describe() for f in findings[:5])
        more = f" (and {len(findings) - 5} more)" if len(findings) > 5 else ""
        super().__init__(f"{what} was not published: {reasons}{more}")


@dataclass
class Ledger:
    """The counts a set of public outputs will show, and the sums a reader can see."""

    threshold: int
    counts: dict[Key, int] = field(default_factory=dict)
    sums: list[Sum] = field(default_factory=list)
    tables: list[Sum] = field(default_factory=list)
    never_shown: set[Key] = field(default_factory=set)
    known: set[Key] = field(default_factory=set)

    def count(self, key: Key, value: int) -> Key:
        """Register one count; the same key must always count the same number."""
        if self.counts.setdefault(key, value) != value:
            raise ValueError(f"{key!r} counted twice with different values")
        return key

    def unpublished(self, key: Key, value: int) -> Key:
        """A count never shown, that readers may still work out (such as a sum of shown cells)."""
        self.never_shown.add(key)
        return self.count(key, value)

    def known_zero(self, key: Key) -> None:
        """A count of 0 that every reader knows from what the outputs list, whatever is printed.

        Such as a group that ran no session listed in the reach section: it took part in
        none, so its replies are 0 to anyone holding the list. The audit takes it as known.
        """
        if self.counts.get(key) != 0:
            raise ValueError(f"{key!r} is {self.counts.get(key)}, not a known 0")
        self.known.add(key)

    def table(self, total: Key, members: Iterable[Key], adds_up: bool = True) -> None:
        """A table of ``members`` counting the people of ``total``.

        Under the threshold it is withheld whole; with ``adds_up``, the members add up to the
        total (one answer each).
        """
        found = Sum(total, tuple(members))
        if adds_up:
            self.sums.append(found)
        self.tables.append(found)

    def adds_up(self, total: Key, members: Iterable[Key]) -> None:
        """A sum a reader can see, without withholding: ``members`` add up to ``total``."""
        self.sums.append(Sum(total, tuple(members)))

    def alike(self, a: Key, b: Key) -> None:
        """Two counts that may well count the same people.

        When they are equal, a reader may take one for the other, so one is hidden wherever
        the other is.
        """
        if a in self.counts and self.counts.get(a) == self.counts.get(b):
            self.adds_up(a, (b,))

    def settle(self) -> Disclosure:
        """Decide what is hidden: small counts, withheld tables, then secondary suppression."""
        t = self.threshold
        small = {k for k, v in self.counts.items() if 0 < v < t and k not in self.never_shown}
        hidden = small | self.never_shown
        under = {k for k, v in self.counts.items() if 0 < v < t}
        withheld = [s for s in self.tables if s.total in under]
        while withheld:
            table = withheld.pop()
            for member in table.members:
                # Withheld with its table: said to be hidden, so "fewer than t" of each cell
                # does not tell a reader more about the others.
                small.discard(member)
                if member not in hidden:
                    hidden.add(member)
                    withheld += [s for s in self.tables if s.total == member]
        _secondary(self.counts, self.sums, hidden, self.never_shown)
        # First for a reader holding only the outputs, so that each output alone gives nothing
        # away; then for one who also knows what their lists say (``known_zero``). Hiding for
        # one may leave the other something to find: again until neither hides more.
        readers = list(dict.fromkeys([frozenset[Key](), frozenset(self.known)]))
        settled = False
        while not settled:
            before = (len(small), len(hidden))
            for known in readers:
                self._protect(small, hidden, known)
            settled = len(readers) == 1 or (len(small), len(hidden)) == before
        return Disclosure(
            t,
            dict(self.counts),
            frozenset(small),
            frozenset(hidden),
            self.sums,
            frozenset(self.never_shown),
            frozenset(self.known),
        )

    def _protect(self, small: set[Key], hidden: set[Key], known: frozenset[Key]) -> None:
        """Hide more, then say less, until the audit finds nothing that either would mend.

        What is left follows from the tables' layouts and the sessions' list alone (a group
        that ran no session replied 0 times): the reader who knows ``known`` knows it anyway.
        """
        found = audit(self._publication(small, hidden, known))
        while found:
            # One more count at a time: hiding it often protects several findings at once. A
            # known count is no protector: hiding it hides nothing from this reader.
            covered = hidden | known
            added = next(
                (k for f in found if (k := _protector(f.key, self.sums, covered, self.counts))),
                None,
            )
            if added is None:
                # Nothing left to hide: the labels themselves narrow it ("fewer than t" beside
                # a total also under t), so the counts linked to it are only said to be hidden.
                publication = self._publication(small, hidden, known)
                unlabel = next(
                    (u for f in found if (u := small & linked(publication, f.key))), None
                )
                if unlabel is None:
                    return
                small -= unlabel
                found = self._reaudit(found, small, hidden, known, unlabel)
                continue
            before = set(hidden)
            hidden.add(added)
            _secondary(self.counts, self.sums, hidden, self.never_shown)
            found = self._reaudit(found, small, hidden, known, hidden - before)

    def _reaudit(
        self,
        found: list[Finding],
        small: set[Key],
        hidden: set[Key],
        known: frozenset[Key],
        added: set[Key],
    ) -> list[Finding]:
        """Audit again only the counts linked to those just hidden: nothing else changed."""
        publication = self._publication(small, hidden, known)
        changed: set[Key] = set()
        fresh: list[Finding] = []
        for key in sorted(added):
            if key not in changed:
                changed |= linked(publication, key)
                fresh += audit(publication, around=key)
        return [f for f in found if f.key not in changed] + fresh

    def _publication(self, small: set[Key], hidden: set[Key], known: frozenset[Key]) -> Publication:
        shown = {k: v for k, v in self.counts.items() if k not in hidden}
        return Publication(
            self.threshold,
            shown,
            frozenset(small),
            frozenset(hidden),
            self.sums,
            unpublished=frozenset(self.never_shown),
            known=known,
        )


def _secondary(
    counts: dict[Key, int], sums: Sequence[Sum], hidden: set[Key], unpublished: set[Key]
) -> None:
    """Hide more until every sum hides none or at least two of its terms."""
    changed = True
    while changed:
        changed = False
        for s in sums:
            terms = [s.total, *s.members]
            # A sum with a count never shown is left to the audit: that count is unknown too.
            if any(k in unpublished for k in terms) or sum(k in hidden for k in terms) != 1:
                continue
            visible = [k for k in terms if k not in hidden]
            hidden.add(min(visible, key=lambda k: _cheapest(k, s, counts)))
            changed = True


def _protector(
    key: Key, sums: Sequence[Sum], hidden: set[Key], counts: dict[Key, int]
) -> Key | None:
    """A visible count whose hiding widens ``key``'s range: the nearest, through hidden ones."""
    reached, frontier = {key}, [key]
    while frontier:
        at = frontier.pop(0)
        for s in sums:
            terms = [s.total, *s.members]
            if at not in terms:
                continue
            visible = [k for k in terms if k not in hidden]
            if visible:
                return min(visible, key=lambda k: _cheapest(k, s, counts))
            fresh = [k for k in terms if k not in reached]
            reached.update(fresh)
            frontier += fresh
    return None


def _cheapest(key: Key, s: Sum, counts: dict[Key, int]) -> tuple[bool, bool, int]:
    # A non-zero member first: a hidden zero protects little, a total less than a cell.
    value = counts.get(key, 0)
    return (value == 0, key == s.total, value)


@dataclass(frozen=True)
class Disclosure:
    """What the policy lets a set of outputs show: read every public number through it."""

    threshold: int
    counts: dict[Key, int]
    small: frozenset[Key]
    hidden: frozenset[Key]
    sums: Sequence[Sum]
    unpublished: frozenset[Key] = frozenset()
    known: frozenset[Key] = frozenset()
    shares: list[Share] = field(default_factory=list)

    def value(self, key: Key) -> int | None:
        """The count, or None when hidden.

        A key never counted is None too: its number was never audited, so it is withheld
        rather than printed as 0.
        """
        return None if key in self.hidden else self.counts.get(key)

    def is_small(self, key: Key) -> bool:
        """Whether a hidden count may be described as "fewer than the threshold"."""
        return key in self.small

    def percent(self, part: Key, whole: Key, digits: int = 1) -> float | None:
        """``part`` as a per cent of ``whole``, only when both are shown; recorded for the audit."""
        a, b = self.value(part), self.value(whole)
        if a is None or b is None or b == 0:
            return None
        shown = round(100 * a / b, digits)
        self.shares.append(Share(part, whole, shown, digits))
        return shown

    def publication(self) -> Publication:
        """Everything these outputs show, as a reader would see it."""
        shown = {k: v for k, v in self.counts.items() if k not in self.hidden}
        return Publication(
            self.threshold,
            shown,
            self.small,
            self.hidden,
            self.sums,
            tuple(self.shares),
            self.unpublished,
            self.known,
        )

    def check(self, what: str) -> None:
        """Raise ``DisclosureError`` when the audit finds a hidden count given away."""
        found = audit(self.publication())
        if found:
            raise DisclosureError(what, found)
