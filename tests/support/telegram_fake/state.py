"""In-memory state of the fake Bot API: chats, members, topics, messages, files."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]

#: Rights an administrator gets unless told otherwise (Bot API ChatMemberAdministrator).
DEFAULT_ADMIN_RIGHTS: dict[str, bool] = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
}

#: Default permissions of a group (Bot API ChatPermissions).
DEFAULT_PERMISSIONS: dict[str, bool] = {
    "can_send_messages": True,
    "can_send_audios": True,
    "can_send_documents": True,
    "can_send_photos": True,
    "can_send_videos": True,
    "can_send_video_notes": True,
    "can_send_voice_notes": True,
    "can_send_polls": True,
    "can_send_other_messages": True,
    "can_add_web_page_previews": True,
    "can_change_info": False,
    "can_invite_users": True,
    "can_pin_messages": False,
    "can_manage_topics": False,
}


def now() -> int:
    """Return the current Unix time in whole seconds, as every Bot API date is.

    Returns:
        Seconds since the epoch.
    """
    return int(time.time())


@dataclass
class Membership:
    """The status of one user (or the bot) in one chat.

    Attributes:
        status: One of creator, administrator, member, restricted, left, kicked.
        rights: Administrator rights (only for administrator).
        custom_title: Optional administrator title.
        until_date: For kicked/restricted members, Unix time (0 = forever).
    """

    status: str
    rights: dict[str, bool] = field(default_factory=dict)
    custom_title: str | None = None
    until_date: int = 0

    @property
    def is_member(self) -> bool:
        """Whether the user currently belongs to the chat."""
        return self.status in {"creator", "administrator", "member", "restricted"}

    @property
    def is_admin(self) -> bool:
        """Whether the user is the owner or an administrator."""
        return self.status in {"creator", "administrator"}

    def to_api(self, user: JSONDict, chat_type: str) -> JSONDict:
        """Render as a Bot API ChatMember object.

        Args:
            user: The user dict the member object is about.
            chat_type: Type of the chat (affects which optional rights are present).

        Returns:
            A ChatMember dict.
        """
        result: JSONDict = {"user": dict(user), "status": self.status}
        if self.status == "creator":
            result["is_anonymous"] = False
            if self.custom_title:
                result["custom_title"] = self.custom_title
        elif self.status == "administrator":
            rights = {**DEFAULT_ADMIN_RIGHTS, **self.rights}
            if chat_type == "supergroup":
                rights.setdefault("can_manage_topics", rights.get("can_pin_messages", False))
            result.update(rights)
            if self.custom_title:
                result["custom_title"] = self.custom_title
        elif self.status == "restricted":
            result.update({"is_member": True, "until_date": self.until_date})
            result.update(DEFAULT_PERMISSIONS)
        elif self.status == "kicked":
            result["until_date"] = self.until_date
        return result


@dataclass
class ForumTopic:
    """A forum topic in a supergroup with topics enabled.

    Attributes:
        message_thread_id: The topic id (= id of the forum_topic_created service message).
        name: Topic name.
        icon_color: RGB colour of the topic icon.
        icon_custom_emoji_id: Optional custom emoji of the icon.
        is_closed: Whether the topic was closed.
    """

    message_thread_id: int
    name: str
    icon_color: int = 7322096
    icon_custom_emoji_id: str | None = None
    is_closed: bool = False

    def to_api(self) -> JSONDict:
        """Render as a Bot API ForumTopic object.

        Returns:
            A ForumTopic dict.
        """
        result: JSONDict = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            result["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return result


@dataclass
class StoredMessage:
    """A message as stored by the fake.

    Attributes:
        data: The Bot API Message dict (current state, after edits).
        sent_by_bot: Whether the bot sent it.
        deleted: Whether it has been deleted.
        history: Earlier versions of ``data`` (before each edit).
    """

    data: JSONDict
    sent_by_bot: bool
    deleted: bool = False
    history: list[JSONDict] = field(default_factory=list)

    def snapshot(self) -> JSONDict:
        """Return a deep copy of the current message dict.

        Returns:
            The message dict.
        """
        return copy.deepcopy(self.data)


@dataclass
class FakeChat:
    """A chat known to the fake server.

    Pass these objects (or their ``id``) to the helpers of ``FakeBotApi`` and ``TelegramUser``.

    Attributes:
        id: Bot API chat id (users' ids for private chats, negative for groups,
            ``-100...`` for supergroups).
        type: private, group or supergroup.
        title: Title of a group chat.
        username: Public username of a supergroup or of the private chat's user.
        first_name: First name of the private chat's user.
        last_name: Last name of the private chat's user.
        is_forum: Whether topics are enabled (supergroups only).
        members: Membership by user id (the bot included).
        topics: Forum topics by thread id.
        messages: All messages by message id.
        next_message_id: Next message id to assign in this chat.
        chat_instance: Global identifier sent in callback queries from this chat.
        migrated_to: Id of the supergroup this group was upgraded to.
        description: Chat description (getChat).
        reply_keyboard: Last reply keyboard markup the bot sent here, if any.
    """

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False
    members: dict[int, Membership] = field(default_factory=dict)
    topics: dict[int, ForumTopic] = field(default_factory=dict)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    chat_instance: str = ""
    migrated_to: int | None = None
    description: str | None = None
    reply_keyboard: JSONDict | None = None

    def to_api(self) -> JSONDict:
        """Render as the Bot API Chat object that appears inside messages.

        Returns:
            A Chat dict.
        """
        result: JSONDict = {"id": self.id, "type": self.type}
        if self.type == "private":
            result["first_name"] = self.first_name or ""
            if self.last_name:
                result["last_name"] = self.last_name
            if self.username:
                result["username"] = self.username
        else:
            result["title"] = self.title or ""
            if self.username:
                result["username"] = self.username
            if self.is_forum:
                result["is_forum"] = True
        return result

    def allocate_message_id(self) -> int:
        """Reserve the next message id of this chat.

        Returns:
            The new message id.
        """
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class StoredFile:
    """A file the fake knows about (uploaded by the bot or sent by a user).

    Attributes:
        file_id: Bot API file_id.
        file_unique_id: Bot API file_unique_id.
        kind: photo, sticker, document, ...
        data: The bytes served for downloads.
        file_path: Path under the file URL.
        width: Width for images.
        height: Height for images.
    """

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    width: int = 0
    height: int = 0
