"""The core's actions as Bot API calls: HTML messages, cards, choice keyboards, private notes.

A private message to someone who never opened a chat with the bot cannot be delivered
(Telegram answers 403); they are then invited once, in the group, through a link that opens
the private chat. What the private message said never goes to the group.
"""

from __future__ import annotations

import logging
from pathlib import Path

from telegram import (
    Bot,
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
from bot.core.bidi import for_display
from bot.core.ids import GroupRef, PersonRef
from bot.platforms.html import escape, split_html, visible_length
from bot.platforms.render import buttons_text, card_html, choice_html, shorten, shown_html
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

TOAST_LIMIT = 200  # characters answerCallbackQuery shows
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class Sender:
    """Performs actions on one bot; remembers what it needs to edit or not repeat.

    What an action answers comes with it (``answers``): a short private reply to a press in a
    group becomes the press's pop-up, so no private chat is needed to vote, and a private reply
    that cannot be delivered becomes an invitation in the group the person wrote in.
    """

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
        self._slots: dict[tuple[int, int | None, str], int] = {}
        self._photos: dict[str, str] = {}
        self._invited: set[tuple[PersonRef, GroupRef]] = set()

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
            elif isinstance(action, SendText):  # Telegram never asks for a topic (OpenTopic)
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

    async def answer(self, press: str, text: str | None = None, url: str | None = None) -> bool:
        """Answer a button press (by its id); False when Telegram refuses (answered, too old).

        Telegram answers a press once, so whether it was answered is Telegram's to remember.
        """
        try:
            shown = shorten(for_display(text, self.language), TOAST_LIMIT) if text else None
            await self.bot.answer_callback_query(press, text=shown, url=url)
        except BadRequest as exc:
            log.info("button press not answered: %s", exc.message)
            return False
        return True

    async def _send(
        self,
        chat_id: int,
        thread: int | None,
        html: str,
        markup: InlineKeyboardMarkup | None = None,
        slot: str | None = None,
    ) -> Message | None:
        """Send HTML to a chat, split at Telegram's limit (buttons on the last piece)."""
        html = shown_html(html, self.language)
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
            label = shorten(for_display(button.label, self.language), 64)
            if button.private and in_group is not None:
                # The button opens the private chat about the group, with the group's token.
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
        html = card_html(card, self.texts, action.language or self.language, not captioned)
        await self._send(chat_id, thread, html)

    async def _image(self, action: SendImage) -> None:
        """A picture the bot drew (a chart), with its description as the caption or after it."""
        chat_id, thread = _where(action)
        caption = shown_html(escape(action.alt), self.language)
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
        caption = shown_html(escape(self.t("step.card_image", alt=alt)), self.language)
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
                    shorten(for_display(f"{number}. {option}", self.language), 64),
                    callback_data=vote_data(action.step_id, number, action.multiple),
                )
            ]
            for number, option in enumerate(action.options, start=1)
        ]
        html = choice_html(action, self.texts, action.language or self.language)
        chat_id, thread = _where(action)
        await self._send(chat_id, thread, html, InlineKeyboardMarkup(rows))

    async def _private(self, action: SendPrivate) -> None:
        origin = action.answers
        if origin is not None and origin.token is not None and origin.group is not None:
            if action.asks_consent and action.group is not None:
                # Someone without consent voted: open the private consent chat right away.
                if await self.answer(origin.token, url=self.deep_link(action.group)):
                    return
            elif not action.buttons and not action.slot and len(action.text) <= TOAST_LIMIT:
                if await self.answer(origin.token, action.text):
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
        group = action.group or (action.answers.group if action.answers else None)
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
