"""The ``[discord]`` settings table; the token comes from DIALOGUE_DISCORD_TOKEN only."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from bot.platforms.section import PlatformSection


class DiscordSettings(PlatformSection):
    """The Discord platform; its token comes from DIALOGUE_DISCORD_TOKEN only."""

    # Discord user ids of staff: they may /dialogue register channels and grant facilitation.
    staff: list[int] = Field(default_factory=list)
    # Servers (guild ids) whose slash commands are synced at start; empty: every server.
    guilds: list[int] = Field(default_factory=list)
    facilitator_roles: list[str] = Field(default_factory=lambda: ["Facilitator"])
    manage_server_facilitates: bool = True
    sessions_in: Literal["thread", "channel"] = "thread"
    # 1: one gateway connection; "auto" or a number above 1: an AutoShardedClient.
    shards: Annotated[int, Field(ge=1)] | Literal["auto"] = 1
    # At most this many messages read back per session's channel or thread after downtime
    # (the rest at the next start); 0: do not catch up.
    catch_up_limit: Annotated[int, Field(ge=0)] = 5000
