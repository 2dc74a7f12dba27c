"""The database's memory of invitations, a person's latest group and session leads.

Invitations are keyed hashes that name nobody; they are found again only with the pseudonym
key, and erasure forgets them, also for someone who never agreed and left no identity.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.core.captures import ConsentRecorded, SessionSaved
from bot.core.ids import GroupRef, PersonRef, invitation_key
from bot.core.state import SessionState, Status
from exporters.pseudonymise import Pseudonymiser
from storage.repositories import Repository
from storage.tables import identities, invitations

T0 = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
TOPIC = GroupRef("telegram", "-1001/7")  # a session in a topic: consent is the whole chat's
OTHER = GroupRef("telegram", "-1002")
CAROL, FRAN = PersonRef("telegram", "777"), PersonRef("telegram", "42")
PSEUDONYM = Pseudonymiser(b"k" * 32)


def session(group: GroupRef, session_id: str) -> SessionSaved:
    state = SessionState(group, Status.RUNNING, session_id, "c1", "script", "1", 0, T0, T0)
    return SessionSaved(state)


def agreed(person: PersonRef, group: GroupRef, minutes: int) -> ConsentRecorded:
    at = T0 + timedelta(minutes=minutes)
    return ConsentRecorded(person, group, frozenset({"participate"}), "v1", "sha", at)


async def test_an_invitation_is_a_keyed_hash_found_again_only_with_the_key(
    repo: Repository,
) -> None:
    await repo.apply([session(TOPIC, "s1")])
    key = invitation_key(PSEUDONYM(CAROL), TOPIC)
    assert key == invitation_key(PSEUDONYM(CAROL), TOPIC.whole)  # once per chat, not topic
    await repo.remember_invitation(key, T0)
    await repo.remember_invitation(key, T0 + timedelta(hours=1))  # the first time counts
    assert await repo.was_invited(key)
    other_key = Pseudonymiser(b"x" * 32)(CAROL)
    assert not await repo.was_invited(invitation_key(other_key, TOPIC))
    async with repo._engine.connect() as conn:
        rows = (await conn.execute(select(invitations))).all()
        people = (await conn.execute(select(identities))).all()
    assert [tuple(r) for r in rows] == [(key, T0)]
    assert people == []  # nothing of hers but the hash
    assert "777" not in key and "-1001" not in key


async def test_the_latest_group_is_the_newest_consent_or_invitation(repo: Repository) -> None:
    await repo.apply([session(TOPIC, "s1"), session(OTHER, "s2")])
    assert await repo.latest_group(CAROL, PSEUDONYM(CAROL)) is None
    await repo.apply([agreed(CAROL, OTHER, 0)])
    assert await repo.latest_group(CAROL, PSEUDONYM(CAROL)) == OTHER
    later = T0 + timedelta(minutes=5)
    await repo.remember_invitation(invitation_key(PSEUDONYM(CAROL), TOPIC), later)
    assert await repo.latest_group(CAROL, PSEUDONYM(CAROL)) == TOPIC.whole
    await repo.apply([agreed(CAROL, OTHER, 10)])
    assert await repo.latest_group(CAROL, PSEUDONYM(CAROL)) == OTHER


async def test_erasure_forgets_invitations_and_leads(repo: Repository) -> None:
    await repo.apply([session(TOPIC, "s1"), session(OTHER, "s2")])
    for group in (TOPIC, OTHER):
        await repo.remember_invitation(invitation_key(PSEUDONYM(CAROL), group), T0)
    await repo.set_lead("s1", FRAN, T0)
    await repo.set_lead("s1", CAROL, T0)
    assert await repo.lead("s1") == CAROL
    await repo.erase_person(CAROL, PSEUDONYM(CAROL), T0)
    for group in (TOPIC, OTHER):
        assert not await repo.was_invited(invitation_key(PSEUDONYM(CAROL), group))
    assert await repo.lead("s1") is None
    await repo.set_lead("s2", FRAN, T0)
    assert await repo.lead("s2") == FRAN and await repo.lead("s1") is None
