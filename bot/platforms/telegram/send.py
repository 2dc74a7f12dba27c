"""The core's actions as Bot API calls: HTML messages, cards, choice keyboards, private notes.

A private message to someone who never opened a chat with the bot cannot be delivered
(Telegram answers 403); they are then invited once, in the group, through a link that opens
the private chat. What the private message said never goes to the group.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)
from telegram.constants import ChatMemberStatus, MessageLimit, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError

from bot.core.actions import (
    Action,
    AskChoice,
    Button,
    CheckAccess,
    SendCard,
    SendImage,
    SendPrivate,
    SendText,
)
from bot.core.ids import GroupRef, PersonRef
from bot.platforms.html import escape, split_html, visible_length
from bot.platforms.render import buttons_text, card_html, choice_html, shorten
from bot.platforms.telegram.codec import (
    button_data,
    chat_and_thread,
    group_token,
    step_key,
    vote_data,
)
from bot.platforms.telegram.updates import Directory
from bot.texts import Catalogue

log = logging.getLogger(__name__)

CONSENT_PAYLOAD = "consent"  # the core's button that leads to the private consent chat
TOAST_LIMIT = 200  # characters answerCallbackQuery shows
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass
class Press:
    """A button press being handled: answered once, with a short reply as its pop-up."""

    query: CallbackQuery
    in_group: bool
    answered: bool = False


class Sender:
    """Performs actions on one bot; remembers what it needs to edit or not repeat."""

    def __init__(
        self,
        bot: Bot,
        texts: Catalogue,
        language: str,
        resources: Path,
        step_ids: dict[str, str],
        people: Directory,
    ) -> None:
        """``resources`` holds card pictures; ``step_ids`` learns each choice's step key."""
        self.bot = bot
        self.texts = texts
        self.language = language
        self.resources = resources
        self.step_ids = step_ids
        self.people = people
        # Button presses being handled, by presser: a short private answer to a press in a
        # group becomes its pop-up, so no private chat is needed to vote.
        self.pressing: dict[PersonRef, Press] = {}
        self._slots: dict[tuple[int, int | None, str], int] = {}
        self._photos: dict[str, str] = {}
        self._invited: set[tuple[PersonRef, GroupRef]] = set()
        # The group each person's event being handled came from: where to invite them when a
        # private answer (to /mydata typed in the group, say) cannot be delivered.
        self.speaking: dict[PersonRef, GroupRef] = {}

    def t(self, key: str, **params: object) -> str:
        """A message from the catalogue."""
        return self.texts.get(self.language, key, **params)

    def deep_link(self, group: GroupRef) -> str:
        """The link that opens a private chat with the bot about ``group``."""
        return f"https://t.me/{self.bot.username}?start={group_token(group)}"

    async def perform(self, action: Action) -> None:
        """Carry out one action; Telegram's refusals are logged, never raised."""
        try:
            if isinstance(action, SendPrivate):
                await self._private(action)
            elif isinstance(action, SendCard):
                await self._card(action)
            elif isinstance(action, AskChoice):
                await self._choice(action)
            elif isinstance(action, CheckAccess):
                await self._check_access(action)
            elif isinstance(action, SendImage):
                await self._image(action)
            else:
                # Shown privately (a rehearsal): its join button gets no group link.
                in_group = action.group if action.person is None else None
                markup = self._keyboard(action.buttons, None, in_group)
                chat_id, thread = _where(action)
                await self._send(chat_id, thread, escape(action.text), markup, action.slot)
        except ChatMigrated as exc:
            log.warning(
                "group became a supergroup: register the new one (dialogue group add)",
                extra={"kind": type(action).__name__, "group": str(exc.new_chat_id)},
            )
        except TelegramError as exc:
            # Telegram's descriptions name the problem, never the text sent.
            log.warning("Telegram refused %s: %s", type(action).__name__, exc.message)

    async def notice(self, chat_id: int, thread: int | None, text: str) -> None:
        """Tell a chat something the adapter itself must say (e.g. an unknown @name)."""
        try:
            await self._send(chat_id, thread, escape(text))
        except TelegramError as exc:
            log.warning("Telegram refused a notice: %s", exc.message)

    async def answer(self, press: Press, text: str | None = None, url: str | None = None) -> None:
        """Answer a button press once; a press too old to answer is only logged."""
        if press.answered:
            return
        press.answered = True
        try:
            await press.query.answer(text=shorten(text, TOAST_LIMIT) if text else None, url=url)
        except BadRequest as exc:
            log.info("button press not answered: %s", exc.message)

    async def _send(
        self,
        chat_id: int,
        thread: int | None,
        html: str,
        markup: InlineKeyboardMarkup | None = None,
        slot: str | None = None,
    ) -> Message | None:
        """Send HTML to a chat, split at Telegram's limit (buttons on the last piece)."""
        if slot is not None and (message_id := self._slots.get((chat_id, thread, slot))):
            try:
                await self.bot.edit_message_text(
                    html, chat_id, message_id, parse_mode=ParseMode.HTML, reply_markup=markup
                )
                return None
            except BadRequest as exc:
                if "not modified" in exc.message:
                    return None
                log.info("slot message gone, sending anew: %s", exc.message)
        pieces = split_html(html, MessageLimit.MAX_TEXT_LENGTH)
        sent: Message | None = None
        for number, piece in enumerate(pieces, start=1):
            sent = await self.bot.send_message(
                chat_id,
                piece,
                parse_mode=ParseMode.HTML,
                message_thread_id=thread,
                reply_markup=markup if number == len(pieces) else None,
                link_preview_options=NO_PREVIEW,
            )
        if slot is not None and sent is not None:
            self._slots[(chat_id, thread, slot)] = sent.message_id
        return sent

    def _keyboard(
        self, buttons: tuple[Button, ...], about: GroupRef | None, in_group: GroupRef | None
    ) -> InlineKeyboardMarkup | None:
        rows: list[list[InlineKeyboardButton]] = []
        for button in buttons:
            label = shorten(button.label, 64)
            if button.payload == CONSENT_PAYLOAD and in_group is not None:
                # Consent happens in private: the button opens that chat with the group's token.
                rows.append([InlineKeyboardButton(label, url=self.deep_link(in_group))])
                continue
            data = button_data(button.payload, about)
            if data is None:
                log.warning("button payload too long for Telegram", extra={"kind": "button"})
                continue
            rows.append([InlineKeyboardButton(label, callback_data=data)])
        return InlineKeyboardMarkup(rows) if rows else None

    async def _card(self, action: SendCard) -> None:
        card = action.card
        captioned = False
        chat_id, thread = _where(action)
        if card.image is not None:
            captioned = await self._picture(chat_id, thread, card.image.path, card.image.alt)
        html = card_html(card, self.texts, self.language, not captioned)
        await self._send(chat_id, thread, html)

    async def _image(self, action: SendImage) -> None:
        """A picture the bot drew (a chart), with its description as the caption or after it."""
        chat_id, thread = _where(action)
        caption = escape(action.alt)
        fits = visible_length(caption) <= MessageLimit.CAPTION_LENGTH
        await self.bot.send_photo(
            chat_id,
            action.png,
            caption=caption if fits else None,
            parse_mode=ParseMode.HTML,
            message_thread_id=thread,
            filename=f"{action.name}.png",
        )
        if not fits:
            await self._send(chat_id, thread, caption)

    async def _picture(self, chat_id: int, thread: int | None, path: str, alt: str) -> bool:
        """Send a card's picture; True if its description went with it as the caption."""
        file = self.resources / path
        if path not in self._photos and not file.is_file():
            log.warning("card picture missing", extra={"kind": path})
            return False
        caption = escape(self.t("step.card_image", alt=alt))
        fits = visible_length(caption) <= MessageLimit.CAPTION_LENGTH
        try:
            sent = await self.bot.send_photo(
                chat_id,
                self._photos.get(path) or file.read_bytes(),
                caption=caption if fits else None,
                parse_mode=ParseMode.HTML,
                message_thread_id=thread,
            )
        except BadRequest as exc:  # the card's words still go out, with the description
            log.warning("card picture refused: %s", exc.message, extra={"kind": path})
            return False
        if sent.photo:
            self._photos[path] = sent.photo[-1].file_id  # reused, not uploaded again
        return fits

    async def _choice(self, action: AskChoice) -> None:
        key = step_key(action.step_id)
        self.step_ids[key] = action.step_id
        rows = [
            [
                InlineKeyboardButton(
                    shorten(f"{number}. {option}", 64),
                    callback_data=vote_data(action.step_id, number, action.multiple),
                )
            ]
            for number, option in enumerate(action.options, start=1)
        ]
        html = choice_html(action, self.texts, self.language)
        chat_id, thread = _where(action)
        await self._send(chat_id, thread, html, InlineKeyboardMarkup(rows))

    async def _private(self, action: SendPrivate) -> None:
        press = self.pressing.get(action.person)
        if press is not None and press.in_group and not press.answered:
            if action.group is not None and _offers_consent(action.buttons):
                # Someone without consent voted: open the private consent chat right away.
                await self.answer(press, url=self.deep_link(action.group))
                return
            if not action.buttons and not action.slot and len(action.text) <= TOAST_LIMIT:
                await self.answer(press, action.text)
                return
        markup = self._keyboard(action.buttons, action.group, None)
        text = action.text
        if action.buttons and markup is None:
            text = f"{text}\n{buttons_text(action.buttons)}"
        try:
            await self._send(int(action.person.user_id), None, escape(text), markup, action.slot)
        except Forbidden:
            await self._invite_in_group(action)

    async def _invite_in_group(self, action: SendPrivate) -> None:
        group = action.group or self.speaking.get(action.person)
        if group is None or (action.person, group.whole) in self._invited:
            log.info("private message undeliverable", extra={"kind": "forbidden"})
            return
        self._invited.add((action.person, group.whole))
        user_id = int(action.person.user_id)
        name = self.people.names.get(user_id, self.t("telegram.no_name"))
        mention = f'<a href="tg://user?id={user_id}">{escape(name)}</a>'
        text = self.t("telegram.private_blocked", name="\x00")
        html = escape(text).replace("\x00", mention)
        button = InlineKeyboardButton(self.t("telegram.open_private"), url=self.deep_link(group))
        chat_id, thread = chat_and_thread(group)
        await self._send(chat_id, thread, html, InlineKeyboardMarkup([[button]]))

    async def _check_access(self, action: CheckAccess) -> None:
        chat_id, thread = chat_and_thread(action.group)
        me = await self.bot.get_me()
        member = await self.bot.get_chat_member(chat_id, me.id)
        admin = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
        if member.status == ChatMemberStatus.RESTRICTED and not getattr(
            member, "can_send_messages", True
        ):
            key = "telegram.cannot_post"
        elif not me.can_read_all_group_messages and not admin:
            key = "telegram.privacy_on"
        else:
            key = "telegram.access_ok"
        log.info("group access checked", extra={"group": action.group.chat_id, "kind": key})
        await self._send(chat_id, thread, escape(self.t(key)))


def _where(action: SendText | SendCard | AskChoice | SendImage) -> tuple[int, int | None]:
    """The chat (and topic) an action goes to: its group's, or a person's private chat."""
    if action.person is not None:
        return int(action.person.user_id), None
    return chat_and_thread(action.group)


def _offers_consent(buttons: tuple[Button, ...]) -> bool:
    return any(button.payload == CONSENT_PAYLOAD for button in buttons)
