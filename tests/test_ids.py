"""People and groups as dictionary keys: equal exactly when a dataclass would make them so."""

from __future__ import annotations

from bot.core.ids import GroupRef, PersonRef


def test_refs_are_equal_and_hash_alike_by_platform_and_id_and_only_within_their_kind() -> None:
    alice = PersonRef("telegram", "42")
    assert alice == PersonRef("telegram", "42") and hash(alice) == hash(PersonRef("telegram", "42"))
    assert alice != PersonRef("telegram", "43") and alice != PersonRef("discord", "42")
    assert alice != GroupRef("telegram", "42") and alice != ("telegram", "42")
    group = GroupRef("telegram", "-100")
    assert group == GroupRef("telegram", "-100") and hash(group) == hash(
        GroupRef("telegram", "-100")
    )
    assert group != GroupRef("telegram", "-101") and group != GroupRef("discord", "-100")
    assert group != PersonRef("telegram", "-100")


def test_a_ref_made_anew_finds_what_is_kept_under_an_equal_one() -> None:
    kept = {PersonRef("telegram", "42"): "alice", GroupRef("telegram", "42"): "a group"}
    kept[(PersonRef("telegram", "42"), GroupRef("telegram", "-100"))] = "alice there"
    assert kept[PersonRef("telegram", "42")] == "alice"
    assert kept[GroupRef("telegram", "42")] == "a group"
    assert kept[(PersonRef("telegram", "42"), GroupRef("telegram", "-100"))] == "alice there"
    assert PersonRef("telegram", "43") not in kept and PersonRef("discord", "42") not in kept


def test_the_same_id_on_two_platforms_is_two_keys() -> None:
    kept = {PersonRef("telegram", "42"): "on telegram", PersonRef("discord", "42"): "on discord"}
    kept[GroupRef("telegram", "42")] = "a group"
    assert len(kept) == 3
    assert kept[PersonRef("discord", "42")] == "on discord"
    assert kept[PersonRef("telegram", "42")] == "on telegram"
