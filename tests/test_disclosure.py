"""The disclosure policy and its audit: each leak a reader found, and random cycles."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.content.check import Library
from bot.content.models import Script, Step
from bot.core.ids import GroupRef
from bot.core.records import SessionHeard
from bot.service import show
from bot.texts import Catalogue
from exporters import aggregates as agg_
from exporters import heard_card, published, reach
from exporters.aggregates import Aggregates
from exporters.audit import Publication, Share, Sum, audit
from exporters.charts import bars
from exporters.disclosure import Disclosure, Key, Ledger
from exporters.learning import Words, counted
from exporters.schema import ALL_GROUPS
from storage.heard import Heard, StepCount, Tally
from storage.reach import CycleReach, SessionReplies
from tests.support.export_cycle import LIBRARY
from tests.support.reach_cycle import QUESTIONS, T0

CHOICE = Step(id="pick", kind="choice", text="Which?", options=["a", "b", "c"])
PICK = ("s", "pick")
SAY = Words(Catalogue.load())


def settle(counts: dict[Key, int], tables: list[tuple[Key, list[Key]]], t: int) -> Disclosure:
    ledger = Ledger(t)
    for key, value in counts.items():
        ledger.count(key, value)
    for total, members in tables:
        ledger.table(total, members)
    return ledger.settle()


def old(shown: dict[Key, int], small: set[Key], sums: list[Sum], t: int, **more: object) -> list:
    """What the code before this policy published, as a reader sees it, audited."""
    hidden = frozenset(small | set(more.pop("secondary", set())))  # type: ignore[arg-type]
    return audit(Publication(t, shown, frozenset(small), hidden, sums, **more))  # type: ignore[arg-type]


def test_a_count_hidden_to_protect_another_is_said_to_be_hidden_never_fewer_than() -> None:
    cells = {("all",): 4, ("a",): 1, ("b",): 3, ("c",): 0}
    found = settle(cells, [(("all",), [("a",), ("b",), ("c",)])], 3)
    assert found.value(("a",)) is None and found.is_small(("a",))
    assert found.value(("b",)) is None and not found.is_small(("b",))  # 3 is not "fewer than 3"
    found.check("test")


def test_show_leak_four_answered_beside_two_fewer_than_three_is_caught() -> None:
    # Before: "4 people answered", a and b "fewer than 3 (hidden)": both must be 2.
    sums = [Sum(("people",), (("a",), ("b",), ("c",)))]
    findings = old({("people",): 4, ("c",): 0}, {("a",), ("b",)}, sums, 3)
    assert {(f.key, f.low, f.high) for f in findings} == {(("a",), 2, 2), (("b",), 2, 2)}
    # Now the people who answered are hidden too, and nothing can be narrowed.
    found = settle(
        {("people",): 4, ("a",): 2, ("b",): 2, ("c",): 0},
        [(sums[0].total, list(sums[0].members))],
        3,
    )
    assert found.value(("people",)) is None
    assert audit(found.publication()) == []


def test_one_person_answering_is_withheld_whole_so_no_zero_points_at_them() -> None:
    # Before: answered "*", one value "*", the others an exact 0: the person's answer shows.
    values = [("v", "16-24"), ("v", "25-64"), ("v", "65+")]
    sums = [Sum(("answered",), tuple(values))]
    findings = old({values[1]: 0, values[2]: 0}, {("answered",), values[0]}, sums, 10)
    assert [(f.key, f.within) for f in findings] == [(values[0], ("answered",))]
    assert "everyone counted" in findings[0].describe()
    found = settle(
        {("answered",): 1, values[0]: 1, values[1]: 0, values[2]: 0}, [(("answered",), values)], 10
    )
    assert [found.value(v) for v in values] == [None, None, None]
    assert not any(found.is_small(v) for v in values)  # withheld with the table, not "fewer than"
    assert audit(found.publication()) == []


def test_a_count_hidden_in_the_reach_section_but_published_in_consent_counts_is_caught() -> None:
    # Before: reach hid "without the profile" (4) and, to protect it, "with the profile" (20);
    # consent_counts, suppressed on its own, published participate 24 and profile 20.
    sums = [
        Sum(reach.PEOPLE, (reach.PROFILE, reach.NO_PROFILE)),
        Sum(reach.PROFILE, (("age", "answered"), ("age", "prefer"), ("age", "missing"))),
        Sum(reach.PEOPLE, (agg_.consents("all", "participate"),)),
        Sum(reach.PROFILE, (agg_.consents("all", "profile"),)),
    ]
    shown = {
        reach.PEOPLE: 24,
        agg_.consents("all", "participate"): 24,
        agg_.consents("all", "profile"): 20,
        ("age", "answered"): 16,
        ("age", "prefer"): 0,
    }
    small = {reach.NO_PROFILE, ("age", "missing")}
    findings = old(shown, small, sums, 10, secondary={reach.PROFILE})
    assert {f.key for f in findings if f.low == f.high} == {
        reach.PROFILE,
        reach.NO_PROFILE,
        ("age", "missing"),
    }


def test_a_percentage_beside_its_part_gives_a_hidden_whole_away_and_is_caught() -> None:
    share = Share(("quote",), ("participate",), 50.0, 1)
    findings = old({("quote",): 7}, set(), [], 10, secondary={("participate",)}, shares=(share,))
    # 50.0% of 7 rounded to a tenth: from 13.986 to 14.014 people, so 14.
    assert [(f.key, round(f.low), round(f.high)) for f in findings] == [(("participate",), 14, 14)]


def test_a_percentage_is_published_only_with_both_its_counts() -> None:
    found = settle({("quote",): 4, ("participate",): 30}, [], 10)
    assert found.percent(("quote",), ("participate",)) is None
    assert found.percent(("participate",), ("participate",)) == 100.0


def test_the_same_count_is_hidden_wherever_it_appears() -> None:
    ledger = Ledger(10)
    ledger.count(("people", "all"), 12)
    ledger.count(("people", "g1"), 3)
    ledger.count(("people", "g2"), 9)
    ledger.table(("people", "all"), [("people", "g1"), ("people", "g2")])
    ledger.count(("cycle", "everyone"), 12)
    ledger.count(("cycle", "new"), 12)
    ledger.count(("cycle", "returning"), 0)
    ledger.table(("cycle", "everyone"), [("cycle", "new"), ("cycle", "returning")])
    ledger.alike(("people", "all"), ("cycle", "everyone"))
    found = ledger.settle()
    assert found.value(("people", "all")) is None
    assert found.value(("cycle", "everyone")) is None  # the same 12 people, hidden too
    found.check("test")


def test_a_count_counted_twice_differently_is_a_programming_error() -> None:
    ledger = Ledger(10)
    ledger.count(("a",), 1)
    try:
        ledger.count(("a",), 2)
    except ValueError as error:
        assert "counted twice" in str(error)
    else:
        raise AssertionError("no error")


@st.composite
def cycles(draw: st.DrawFn) -> tuple[Aggregates, CycleReach, int]:
    """A random cycle: groups of people who consent, reply, vote and answer the profile."""
    groups = draw(st.integers(1, 4))
    agg = Aggregates()
    people: list[dict[str, str | None] | None] = []
    step, vote_step = ("s", "open"), ("s", "pick")
    start = date(2026, 1, 1)
    written: dict[str, int] = {}
    # Who replied or answered in each group.
    joined: dict[str, list[str]] = {}
    n = 0
    for g in range(groups):
        for _ in range(draw(st.integers(0, 14))):
            n += 1
            person, group = f"p{n}", f"g{g}"
            scopes = draw(st.frozensets(st.sampled_from(["quote", "profile", "followup"])))
            agg.consent(group, scopes | {"participate"})
            if draw(st.booleans()):
                agg.returning_people.add(person)
            written[person] = draw(st.integers(0, 3))
            for _ in range(written[person]):
                agg.reply(group, step, person, start + timedelta(days=draw(st.integers(0, 2))))
            if draw(st.booleans()):
                agg.vote(group, vote_step, person, [draw(st.integers(1, 3))])
            if person in agg.everyone:
                joined.setdefault(group, []).append(person)
                answers = {
                    q.id: draw(st.sampled_from([*q.report_values(), "Prefer not to say", None]))
                    for q in QUESTIONS.questions
                }
                people.append(
                    {k: v for k, v in answers.items() if v} if "profile" in scopes else None
                )
    sessions = []
    for group, who in sorted(joined.items()):
        # One session a group: how many replies each person wrote (0: answered only).
        replies = tuple(written[p] for p in sorted(who))
        sessions.append(SessionReplies(f"s-{group}", GroupRef("t", group), T0, replies))
    data = CycleReach(tuple(people), tuple(sessions))
    return agg, data, draw(st.sampled_from([3, 5, 10]))


SCRIPT = Script(
    id="s",
    version="1",
    title="S",
    language="en",
    estimated_minutes=5,
    steps=(Step(id="open", kind="prompt", text="Say?"), CHOICE),
)
CARD_LIBRARY = Library(scripts={"s": SCRIPT})


def card_of(agg: Aggregates) -> Heard:
    """What the cycle's "what we heard" card counts: replies by group, answers by label."""
    counts = tuple(
        StepCount(n, None, step[0], step[1], agg.replies[(g, *step)], who, GroupRef("t", g))
        for n, ((g, *step), who) in enumerate(sorted(agg.repliers.counts().items()))
    )
    tallies = tuple(
        Tally("s", "pick", o, sum(v for (_, *k, x), v in agg.votes.items() if x == o), label)
        for o, label in enumerate(CHOICE.choices(), start=1)
    )
    voted = sum(agg.voters.values())
    groups = len(agg.people.counts())
    return Heard(groups, groups, counts, tallies, (), {("s", "pick"): voted})


def same_counts(agg: Aggregates, data: CycleReach) -> list[Sum]:
    """What a reader holding every output knows counts the same people, worked out here.

    Independent of the links the outputs register, so a link they forget is a leak found.
    """
    found = []
    for n, ((g, *step), _) in enumerate(sorted(agg.repliers.counts().items())):
        at = (step[0], step[1])
        found.append(Sum(("heard", "people", str(n), *at), (agg_.participants(g, at),)))
        found.append(Sum(("heard", "replies", str(n), *at), (agg_.replies(g, at),)))
    for o, label in enumerate(CHOICE.choices(), start=1):
        found.append(
            Sum(("heard", "votes", "s", "pick", label), (agg_.votes(ALL_GROUPS, PICK, o),))
        )
    replied = sorted({(s_, k) for (_, s_, k) in agg.replies})
    for session in data.sessions:
        g = session.group.chat_id
        steps = tuple(agg_.replies(g, step) for step in replied)
        found.append(Sum(("reach", "session", session.session_id, "replies"), steps))
        found.append(Sum(("reach", "session", session.session_id, "people"), (agg_.people(g),)))
    return found


BY_GROUP = ("participants", "replies", "votes", "consent", "people")
SESSIONS_ONLY = ("participants", "replies", "votes", "voters", "people")


def as_read(found: Disclosure, agg: Aggregates, data: CycleReach) -> Publication:
    """The publication as a reader holding the tables and the sessions' list sees it.

    Every group counted anywhere (each consenting person is in a consent row) is known, so a
    group missing from a table's rows is known to count 0 there, beside that table's total.
    A group that ran no listed session took part in none: the reader knows its counts of
    replies, answers and people are 0 whatever the tables print (consents are given outside
    sessions).
    """
    whole = found.publication()
    groups = sorted({g for g, _ in agg.consents})
    zeros: dict[Key, int] = {}
    sums = []
    for kind, _, *rest in [k for k in found.counts if k[0] in BY_GROUP and k[1] == ALL_GROUPS]:
        members = tuple((kind, g, *rest) for g in groups)
        zeros |= {k: 0 for k in members if k not in found.counts}
        sums.append(Sum((kind, ALL_GROUPS, *rest), members))
    idle = set(groups) - {s.group.chat_id for s in data.sessions}
    known = {k for k in found.counts if k[0] in SESSIONS_ONLY and k[1] in idle}
    assert all(found.counts[k] == 0 for k in known)  # what the reader knows is true
    return replace(
        whole,
        shown={**whole.shown, **zeros},
        sums=[*whole.sums, *sums],
        known=frozenset(known),
    )


def cycle_ledger(agg: Aggregates, data: CycleReach, t: int) -> Ledger:
    """Every public output of the cycle in one ledger, as ``exporters.published`` settles it."""
    ledger = Ledger(t)
    agg_.register(agg, ledger, {("s", "pick"): CHOICE})
    reach.register(ledger, data, QUESTIONS)
    reach.link_groups(ledger, data, lambda g: g.chat_id)
    heard_card.register(ledger, card_of(agg), CARD_LIBRARY, lambda g: g.chat_id)
    published.link(ledger)
    return ledger


OUTPUTS = {
    "tables and report": {"participants", "replies", "votes", "consent", "people", "cycle"},
    "reach": {"reach"},
    "what we heard": {"heard"},
}


def alone(whole: Publication, prefixes: set[str]) -> Publication:
    """One output as a reader holding only it sees it: its counts and sums, nothing known."""
    keys = {k for k in [*whole.shown, *whole.hidden] if k[0] in prefixes}
    return Publication(
        whole.threshold,
        {k: v for k, v in whole.shown.items() if k in keys},
        whole.small & keys,
        whole.hidden & keys,
        [s for s in whole.sums if {s.total, *s.members} <= keys],
        unpublished=whole.unpublished & keys,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cycles())
def test_no_random_cycle_discloses_a_hidden_count_in_any_output_or_all_together(
    cycle: tuple[Aggregates, CycleReach, int],
) -> None:
    agg, data, t = cycle
    found = cycle_ledger(agg, data, t).settle()
    whole = as_read(found, agg, data)
    reader = replace(whole, sums=[*whole.sums, *same_counts(agg, data)])
    assert audit(reader) == []  # all outputs together
    for prefixes in OUTPUTS.values():
        assert audit(alone(whole, prefixes)) == [], prefixes  # each output on its own
    for key in found.small:
        assert 0 < found.counts[key] < t  # "fewer than t" is always true
    for table in cycle_ledger(agg, data, t).tables:
        if 0 < found.counts[table.total] < t:
            assert all(found.value(m) is None for m in table.members)  # withheld whole


def union(*outputs: Disclosure, links: list[Sum]) -> Publication:
    """What a reader holding several outputs sees, with the counts they can tell are the same."""
    return Publication(
        outputs[0].threshold,
        {k: v for d in outputs for k, v in d.publication().shown.items()},
        frozenset().union(*(d.small for d in outputs)),
        frozenset().union(*(d.hidden for d in outputs)),
        [s for d in outputs for s in d.sums] + links,
        unpublished=frozenset().union(*(d.unpublished for d in outputs)),
    )


def two_groups() -> tuple[Aggregates, Heard]:
    """Three people replied in one group, twelve in another: the card counts both groups."""
    agg = Aggregates()
    counts = []
    for number, size in ((1, 3), (2, 12)):
        for n in range(size):
            agg.consent(f"g{number}", frozenset({"participate"}))
            agg.reply(f"g{number}", ("s", "open"), f"p{number}-{n}", date(2026, 1, 1))
        ref = GroupRef("telegram", str(number))
        counts.append(StepCount(number, None, "s", "open", size, size, ref))
    return agg, Heard(2, 2, tuple(counts), (), (), {})


def code(group: GroupRef) -> str:
    return f"g{group.chat_id}"


def test_a_count_the_export_hides_to_protect_another_is_hidden_on_the_card_too() -> None:
    agg, heard = two_groups()
    card_people = ("heard", "people", "2", "s", "open")
    same = [Sum(card_people, (agg_.participants("g2", ("s", "open")),))]
    # Before: the card settled its own ledger and printed "people 12" for the second group,
    # which the export hid so that its total (15) would not give the first group's 3 away.
    export = Ledger(10)
    agg_.register(agg, export, {})
    card = Ledger(10)
    heard_card.register(card, heard, LIBRARY, code)
    apart = union(export.settle(), card.settle(), links=same)
    assert card_people in apart.shown
    assert agg_.participants("g1", ("s", "open")) in {f.key for f in audit(apart)}
    # Now every output of the cycle reads one decision: the card hides the 12 as well.
    ledger = Ledger(10)
    agg_.register(agg, ledger, {})
    heard_card.register(ledger, heard, LIBRARY, code)
    published.link(ledger)
    found = ledger.settle()
    assert found.value(card_people) is None
    assert found.value(agg_.participants("g2", ("s", "open"))) is None
    assert audit(union(found, found, links=same)) == []


def test_a_chart_bar_says_what_is_true_of_a_hidden_count_and_a_zero_stays_a_zero() -> None:
    cells = {("all",): 4, ("a",): 1, ("b",): 3, ("c",): 0}
    found = settle(cells, [(("all",), [("a",), ("b",), ("c",)])], 3)
    svg = bars("Answers", [(k[0], [counted(found, k, SAY)]) for k in [("a",), ("b",), ("c",)]])
    marks = r'<rect class="(mark[^"]*)"[^>]*?(?:/>|>.*?</rect>)<text[^>]*>([^<]*)</text>'
    labels = [(css, html.unescape(text)) for css, text in re.findall(marks, svg)]
    # 1 is truly under 3; the 3 hidden to protect it is only "withheld", never "fewer than 3";
    # 0 is 0.
    assert labels == [
        ("mark suppressed", "fewer than 3"),
        ("mark suppressed", "withheld"),
        ("mark", "0"),
    ]


def test_a_group_hidden_in_the_tables_is_hidden_in_the_reach_sessions_too() -> None:
    # Seen in the large report's screenshot: groups of 8, 6 and 10 people (the 10 hidden so
    # the 8 and 6 cannot be worked out from the 57 in all), each in one session. The reach
    # section printed the session of 10, and its 11 replies matched the group's 11 in the
    # participation table: with the 10 known, 8 and 6 lie between 5 and 9.
    agg = Aggregates()
    sessions = []
    for number, size in enumerate((13, 20, 8, 6, 10)):
        group = f"g{number}"
        for n in range(size):
            agg.consent(group, frozenset({"participate"}))
            agg.reply(group, ("s", "open"), f"p{number}-{n}", date(2026, 1, 1))
        ref = GroupRef("telegram", str(number))
        sessions.append(SessionReplies(f"s-{number}", ref, T0, (1,) * (size - 1) + (2,)))
    ledger = Ledger(10)
    agg_.register(agg, ledger, {})
    reach.register(ledger, CycleReach((), tuple(sessions)), QUESTIONS)
    reach.link_groups(ledger, CycleReach((), tuple(sessions)), code)
    published.link(ledger)
    found = ledger.settle()
    assert found.value(agg_.people("g4")) is None
    assert found.value(("reach", "session", "s-4", "people")) is None
    assert audit(found.publication()) == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 3), max_size=25),
    st.integers(0, 10),
    st.sampled_from([3, 5, 10]),
)
def test_no_random_session_discloses_a_hidden_count_in_its_charts_and_summary(
    answers: list[int], only_replied: int, t: int
) -> None:
    heard = SessionHeard(len(answers) + only_replied, {}, {"pick": [(a,) for a in answers]})
    found = show.session_disclosure(SCRIPT, heard, t)  # raises if the audit fails
    assert audit(found.publication()) == []
    for key in found.small:
        assert 0 < found.counts[key] < t


def test_a_research_export_works_out_no_range_where_only_unpublished_counts_are_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import scipy.optimize

    solved: list[object] = []
    solve = scipy.optimize.linprog

    def counted(*args: object, **kwargs: object) -> object:
        solved.append(args)
        return solve(*args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "linprog", counted)

    def settled(t: int) -> Disclosure:
        # Cells of a total that is never published, as the themes' and groups' are.
        ledger = Ledger(t)
        total = ledger.unpublished(("voters",), 7)
        ledger.table(total, [ledger.count(("g", str(n)), v) for n, v in enumerate((1, 2, 4))])
        return ledger.settle()

    research = settled(1)
    assert [research.value(("g", str(n))) for n in range(3)] == [1, 2, 4]
    research.check("research")
    assert solved == [], "nothing published is hidden: no range to work out"
    public = settled(3)  # the same cells in public: 1 and 2 are hidden, their ranges audited
    public.check("public")
    assert public.value(("g", "0")) is None and solved


def test_a_group_where_nobody_replied_is_a_withheld_zero_not_a_row_left_out() -> None:
    # Found by the random cycles: one person of g0 only answered, one of g1 replied once.
    # The replies table had no row for g0, so its zero was published: with it, the few
    # replies of the cycle were all g1's, though the table of them was withheld.
    agg = Aggregates()
    agg.consent("g0", frozenset({"participate"}))
    agg.vote("g0", PICK, "p1", [1])
    agg.consent("g1", frozenset({"participate"}))
    agg.reply("g1", ("s", "open"), "p2", date(2026, 1, 1))
    sessions = (
        SessionReplies("s-g0", GroupRef("t", "g0"), T0, (0,)),
        SessionReplies("s-g1", GroupRef("t", "g1"), T0, (1,)),
    )
    data = CycleReach((None, None), sessions)
    found = cycle_ledger(agg, data, 3).settle()
    nobody = agg_.replies("g0", ("s", "open"))
    assert found.counts[nobody] == 0 and found.value(nobody) is None
    assert found.counts[agg_.votes("g1", PICK, 1)] == 0  # g1 answered nothing: a row too
    assert found.counts[agg_.consents("g0", "quote")] == 0
    whole = as_read(found, agg, data)
    assert audit(replace(whole, sums=[*whole.sums, *same_counts(agg, data)])) == []


def test_a_group_that_ran_no_session_took_part_in_none_and_the_cycle_is_still_published() -> None:
    # Found by the random cycles: g0's one person consented and g0 ran no session; g1 ran the
    # only session, one person, one reply. The sessions' list tells every reader that g0
    # replied 0 times and that the few replies are all g1's; the audit took that for a leak,
    # and every public output of the cycle was refused.
    agg = Aggregates()
    agg.consent("g0", frozenset({"participate"}))
    agg.consent("g1", frozenset({"participate"}))
    agg.reply("g1", ("s", "open"), "p2", date(2026, 1, 1))
    data = CycleReach((None,), (SessionReplies("s-g1", GroupRef("t", "g1"), T0, (1,)),))
    found = cycle_ledger(agg, data, 3).settle()
    found.check("The cycle's public outputs")
    for group in ("g0", "g1", ALL_GROUPS):  # the replies' table is still withheld whole
        assert found.value(agg_.replies(group, ("s", "open"))) is None
    whole = as_read(found, agg, data)
    assert audit(replace(whole, sums=[*whole.sums, *same_counts(agg, data)])) == []


def test_a_known_zero_is_still_hidden_from_a_reader_of_the_tables_alone() -> None:
    # Found by the random cycles once the sessions' list was taken as known: g0 agreed and
    # ran no session, g1's 11 people all replied, 3 of them back from an earlier cycle. The
    # people table was hidden to protect the 3 and 8, and g0's zero was printed beside it:
    # to a reader of the tables alone, not holding the sessions' list, it said that all of
    # the hidden people were g1's.
    agg = Aggregates()
    agg.consent("g0", frozenset({"participate"}))
    for n in range(11):
        agg.consent("g1", frozenset({"participate"}))
        agg.reply("g1", ("s", "open"), f"p{n}", date(2026, 1, 1))
    agg.returning_people |= {"p0", "p1", "p2"}
    data = CycleReach((None,) * 11, (SessionReplies("s-g1", GroupRef("t", "g1"), T0, (1,) * 11),))
    found = cycle_ledger(agg, data, 10).settle()
    found.check("The cycle's public outputs")
    assert found.value(agg_.people("g0")) is None
    assert audit(alone(found.publication(), OUTPUTS["tables and report"])) == []
