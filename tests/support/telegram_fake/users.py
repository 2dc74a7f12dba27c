"""Simulated Telegram users that act on the fake server (their actions become updates)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import ChatRef, FakeBotApi, MessageRef
    from .state import FakeChat

JSONDict = dict[str, Any]


class TelegramUser:
    """A human Telegram user driven by a test.

    Create users with ``FakeBotApi.user(...)``. Every action enqueues the update(s) Telegram
    would send to the bot (subject to privacy mode and ``allowed_updates``) and returns the
    Bot API object that was created, so tests can refer to it later (reply, edit, press).

    Attributes:
        id: Telegram user id.
        first_name: First name.
        last_name: Optional last name.
        username: Optional username (without ``@``).
        language_code: IETF language tag of the user's client, e.g. ``"en"``.
        is_premium: Whether the user has Telegram Premium (sent only when True).
        has_started_bot: Whether the user opened a private chat with the bot.
        has_blocked_bot: Whether the user blocked the bot.
    """

    def __init__(
        self,
        fake: FakeBotApi,
        user_id: int,
        first_name: str,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        is_premium: bool = False,
    ) -> None:
        self._fake = fake
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.is_premium = is_premium
        self.has_started_bot = False
        self.has_blocked_bot = False

    def __repr__(self) -> str:
        return (
            f"TelegramUser(id={self.id}, first_name={self.first_name!r}, "
            f"username={self.username!r})"
        )

    def to_dict(self) -> JSONDict:
        """Render as the Bot API User object.

        Returns:
            A User dict (``id``, ``is_bot``, ``first_name`` and the optional fields that are set).
        """
        result: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            result["last_name"] = self.last_name
        if self.username:
            result["username"] = self.username
        if self.language_code:
            result["language_code"] = self.language_code
        if self.is_premium:
            result["is_premium"] = True
        return result

    @property
    def private_chat(self) -> FakeChat:
        """The private chat between this user and the bot (created on first use)."""
        return self._fake.private_chat(self)

    # ------------------------------------------------------------------ messages

    def start_private(self, payload: str | None = None) -> JSONDict:
        """Press "Start" in the private chat with the bot (optionally via a deep link).

        Sends ``/start`` or ``/start <payload>`` with a ``bot_command`` entity and marks the
        user as having started the bot (so the bot may now message them).

        Args:
            payload: Deep-link payload (``t.me/bot?start=<payload>``).

        Returns:
            The Message dict that was sent.
        """
        text = "/start" if not payload else f"/start {payload}"
        return self.say(self.private_chat, text)

    def say(
        self,
        chat: ChatRef,
        text: str,
        reply_to: MessageRef | None = None,
        thread_id: int | None = None,
    ) -> JSONDict:
        """Send a text message.

        Commands (``/cmd`` and ``/cmd@botname``), mentions, hashtags and URLs get the entities
        Telegram would add. Saying something in the private chat starts the bot.

        Args:
            chat: A FakeChat, a chat id, or a user (for the private chat with the bot).
            text: Message text (1-4096 characters).
            reply_to: Message (dict or id) this message replies to.
            thread_id: Forum topic (``message_thread_id``) to post in.

        Returns:
            The Message dict that was sent.
        """
        return self._fake.user_sends(self, chat, {"text": text}, reply_to, thread_id)

    def say_private(self, text: str, reply_to: MessageRef | None = None) -> JSONDict:
        """Send a text message in the private chat with the bot.

        Args:
            text: Message text.
            reply_to: Message (dict or id) this message replies to.

        Returns:
            The Message dict that was sent.
        """
        return self.say(self.private_chat, text, reply_to=reply_to)

    def edit(self, message: MessageRef, new_text: str, chat: ChatRef | None = None) -> JSONDict:
        """Edit one of this user's text messages (produces an ``edited_message`` update).

        Args:
            message: The message dict returned by ``say`` (or its id together with ``chat``).
            new_text: The new text.
            chat: The chat, when ``message`` is an id.

        Returns:
            The edited Message dict (with ``edit_date``).
        """
        return self._fake.user_edits(self, message, new_text, chat)

    def press(
        self, message: MessageRef, callback_data: str, chat: ChatRef | None = None
    ) -> JSONDict:
        """Press an inline keyboard button (produces a ``callback_query`` update).

        Args:
            message: The bot's message dict (e.g. from ``messages_in``) or its id with ``chat``.
            callback_data: ``callback_data`` of the button; it must exist on the message.
            chat: The chat, when ``message`` is an id.

        Returns:
            The CallbackQuery dict (``id``, ``from``, ``message``, ``chat_instance``, ``data``).
        """
        return self._fake.user_presses(self, message, callback_data, chat)

    def send_sticker(
        self, chat: ChatRef, emoji: str = "👍", thread_id: int | None = None
    ) -> JSONDict:
        """Send a (regular, static) sticker.

        Args:
            chat: Where to send it.
            emoji: Emoji associated with the sticker.
            thread_id: Forum topic to post in.

        Returns:
            The Message dict that was sent.
        """
        sticker = self._fake.new_sticker(emoji)
        return self._fake.user_sends(self, chat, {"sticker": sticker}, None, thread_id)

    def send_photo(
        self, chat: ChatRef, caption: str | None = None, thread_id: int | None = None
    ) -> JSONDict:
        """Send a photo (a small generated PNG, downloadable through getFile).

        Args:
            chat: Where to send it.
            caption: Optional caption (commands etc. in it get entities).
            thread_id: Forum topic to post in.

        Returns:
            The Message dict that was sent.
        """
        content: JSONDict = {"photo": self._fake.new_user_photo()}
        if caption:
            content["caption"] = caption
        return self._fake.user_sends(self, chat, content, None, thread_id)

    # ------------------------------------------------------------------ membership

    def join(self, chat: ChatRef) -> JSONDict:
        """Join a group (``new_chat_members`` service message + ``chat_member`` update).

        Args:
            chat: The group or supergroup.

        Returns:
            The service Message dict.
        """
        return self._fake.user_joins(self, chat)

    def leave(self, chat: ChatRef) -> JSONDict:
        """Leave a group (``left_chat_member`` service message + ``chat_member`` update).

        Args:
            chat: The group or supergroup.

        Returns:
            The service Message dict.
        """
        return self._fake.user_leaves(self, chat)

    def block_bot(self) -> None:
        """Block the bot (``my_chat_member`` update; sending to the user then fails with 403)."""
        self._fake.user_blocks(self, blocked=True)
