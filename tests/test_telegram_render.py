"""Telegram's encodings and HTML: tokens, callback data, cards, and splitting long HTML."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.content.check import load_library
from bot.core.ids import GroupRef
from bot.platforms.html import escape, markdown_html, split_html, visible_length
from bot.platforms.render import card_html
from bot.platforms.telegram.codec import (
    ButtonData,
    VoteData,
    button_data,
    decode,
    group_from_token,
    group_ref,
    group_token,
    step_key,
    vote_data,
)
from bot.texts import Catalogue
from tests.support.cli import ROOT
from tests.support.telegram_fake import parse_html

DEEP_LINK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@given(
    chat=st.integers(min_value=-(10**13) - 999_999_999_999, max_value=-1),
    thread=st.none() | st.integers(min_value=1, max_value=2**31),
)
def test_a_group_token_fits_a_deep_link_and_names_the_same_chat_and_topic(
    chat: int, thread: int | None
) -> None:
    group = group_ref(chat, thread)
    token = group_token(group)
    assert DEEP_LINK.match(token)
    assert group_from_token(token) == group


def test_tokens_the_bot_never_made_name_no_group() -> None:
    for token in ("", "x123", "g", "g-", "g-abc_", "g-ab!c", "g-" + "z" * 70):
        assert group_from_token(token) is None


@given(step_id=st.from_regex(r"[a-z0-9][a-z0-9-]{0,63}", fullmatch=True), option=st.integers(1, 99))
def test_choice_buttons_fit_64_bytes_and_survive_a_restart(step_id: str, option: int) -> None:
    for toggle in (False, True):
        data = vote_data(step_id, option, toggle)
        assert len(data.encode()) <= 64
        assert decode(data) == VoteData(step_key(step_id), option, toggle)


def test_consent_buttons_carry_their_group_unless_it_does_not_fit() -> None:
    topic = GroupRef("telegram", "-1002100000001/45")
    everything = "agree participate quote profile followup"
    data = button_data(everything, topic)
    assert data is not None and len(data.encode()) <= 64
    assert decode(data) == ButtonData(everything, topic)
    assert decode(button_data("consent", None)) == ButtonData("consent", None)
    assert button_data("x" * 70, None) is None
    for garbage in (None, "", "v:short:1", "v:abcdefgh:x", "b:g-!!:agree", "zz:1"):
        assert decode(garbage) is None


def test_every_shipped_card_is_valid_telegram_html_with_its_words_escaped() -> None:
    library = load_library(ROOT)
    texts = Catalogue.load()
    for card in library.cards.values():
        html = card_html(card, texts, "en")
        plain, entities = parse_html(html)
        assert card.title in plain
        assert all(source.title in plain for source in card.sources)
        assert any(e["type"] == "text_link" for e in entities) == bool(card.sources)


def test_markdown_keeps_markup_and_shows_raw_html_as_text() -> None:
    html = markdown_html("## Risks\n\n- **lost** data\n- <script>alert(1)</script> & co\n")
    plain, entities = parse_html(html)
    assert plain == "Risks\n\n• lost data\n• <script>alert(1)</script> & co"
    assert {e["type"] for e in entities} == {"bold"}


segment = st.tuples(
    st.sampled_from(["", "b", "i", "a", "code"]),
    st.text(alphabet=st.sampled_from(list("ab cd\n<&>é😀")), min_size=1, max_size=80),
)


@given(segments=st.lists(segment, min_size=1, max_size=30), limit=st.integers(20, 200))
def test_split_html_pieces_are_well_formed_within_the_limit_and_lose_no_words(
    segments: list[tuple[str, str]], limit: int
) -> None:
    parts = []
    for tag, words in segments:
        inner = escape(words)
        if tag == "a":
            parts.append(f'<a href="https://example.org/?a=1&amp;b=2">{inner}</a>')
        else:
            parts.append(f"<{tag}>{inner}</{tag}>" if tag else inner)
    html = "".join(parts)
    pieces = split_html(html, limit)
    plain = "".join(parse_html(piece)[0] for piece in pieces)  # raises if a piece is broken
    assert all(visible_length(piece) <= limit for piece in pieces)
    original = parse_html(html)[0] if visible_length(html) else ""
    assert re.sub(r"\s+", "", plain) == re.sub(r"\s+", "", original)
