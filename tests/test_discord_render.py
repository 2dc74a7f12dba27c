"""Cards as Discord embeds within Discord's limits, and components within theirs."""

from pathlib import Path

import discord
import pytest

from bot.content.models import Card, Image, Source
from bot.content.scopes import Scope
from bot.core.actions import AskChoice, Button
from bot.core.ids import GroupRef
from bot.platforms.discord import ui
from bot.platforms.render import Panel, card_panels, offered_scopes, pack_panels
from bot.texts import Catalogue

TEXTS = Catalogue.load()


class English:
    def t(self, key: str, **params: object) -> str:
        return TEXTS.get("en", key, **params)


SPEAKER = English()


def card(body: str, sources: int, image: bool = False) -> Card:
    return Card(
        id="long-card",
        title="T" * 300,
        summary="A summary.",
        language="en",
        sources=tuple(
            Source(title=f"Source {n} " + "s" * 300, url=f"https://example.org/{n}")
            for n in range(sources)
        ),
        image=Image(path="images/x.png", alt="A picture") if image else None,
        body=body,
    )


def embeds_of(panels: list[Panel]) -> list[discord.Embed]:
    made, files = ui.embeds(panels, images=Path("/nonexistent"))
    assert files == []
    return made


@pytest.mark.parametrize(
    ("body", "sources"),
    [("short body", 1), ("word " * 5000, 3), ("line\n" * 9000, 60), ("x" * 30000, 200)],
    ids=["short", "long-words", "long-lines-many-sources", "unbroken-huge"],
)
def test_every_embed_and_message_stays_within_discords_limits(body: str, sources: int) -> None:
    panels = card_panels(card(body, sources), TEXTS, "en")
    messages = pack_panels(panels)
    for message in messages:
        made = embeds_of(message)
        assert 1 <= len(made) <= 10
        assert sum(len(e) for e in made) <= 6000
        for embed in made:
            assert len(embed.title or "") <= 256
            assert len(embed.description or "") <= 4096
            assert len(embed.fields) <= 25
            assert all(
                len(f.name or "") <= 256 and len(f.value or "") <= 1024 for f in embed.fields
            )
    said = "".join(p.description for p in panels).replace("\n", "").replace(" ", "")
    assert said == ("A summary." + body).replace("\n", "").replace(" ", "")
    assert sum(len(p.fields) for p in panels) == sources


def test_a_short_card_is_one_embed_with_title_sources_and_a_described_picture(
    tmp_path: Path,
) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "x.png").write_bytes(b"\x89PNG picture")
    (message,) = pack_panels(card_panels(card("Body.", 2, image=True), TEXTS, "en"))
    (embed,), (picture,) = ui.embeds(message, tmp_path)
    assert embed.title is not None and embed.title.endswith("…") and len(embed.title) == 256
    assert embed.description == "A summary.\n\nBody."
    assert [f.value for f in embed.fields] == ["https://example.org/0", "https://example.org/1"]
    assert embed.footer.text == "Picture: A picture"
    assert picture.description == "A picture"
    assert embed.image.url == f"attachment://{picture.filename}"


def test_consent_toggles_read_the_scopes_the_core_offers() -> None:
    buttons = (
        Button("All", "agree participate quote profile followup", "/agree ..."),
        Button("Only", "agree participate", "/agree participate"),
    )
    assert offered_scopes(buttons) == ("participate", "quote", "profile", "followup")
    assert offered_scopes((Button("Join", "consent", "/consent"),)) == ()


def test_few_single_answers_are_buttons_and_many_or_several_are_a_select_menu() -> None:
    group = GroupRef("discord", "1")
    few = ui.choice_view(AskChoice(group, "s", "?", ("a", "b"), multiple=False), SPEAKER)
    assert [i.type for i in few.children] == [discord.ComponentType.button] * 2
    many = ui.choice_view(AskChoice(group, "s", "?", tuple("abcdef"), multiple=False), SPEAKER)
    (menu,) = many.children
    assert isinstance(menu, ui.VoteSelect) and menu.item.max_values == 1
    several = ui.choice_view(AskChoice(group, "s", "?", ("a", "b", "c"), multiple=True), SPEAKER)
    (menu,) = several.children
    assert isinstance(menu, ui.VoteSelect) and menu.item.max_values == 3
    assert [o.label for o in menu.item.options] == ["1. a", "2. b", "3. c"]
    assert menu.item.placeholder == "Choose one or more answers"


def test_custom_ids_fit_discords_limit_or_fail_loudly() -> None:
    longest_step = "s" * 64
    assert len(ui.VoteButton(longest_step, 25, "x").custom_id) <= ui.CUSTOM_ID_LIMIT
    group = f"{'9' * 20}/{'9' * 20}"
    everything = tuple((scope, True) for scope in Scope)
    assert (
        len(ui.ConsentToggle(group, everything, Scope.FOLLOWUP, "x").custom_id)
        <= ui.CUSTOM_ID_LIMIT
    )
    with pytest.raises(ValueError, match="longer than 100"):
        ui.ActionButton(group, "agree " + "x" * 80, "Join")
