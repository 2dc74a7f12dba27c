"""Discord components and embeds: persistent buttons and selects, consent toggles, card embeds.

Every component is a ``discord.ui.DynamicItem`` whose custom id carries all it needs (at most
100 characters), so a message keeps working after a restart once the classes are registered
again with ``Client.add_dynamic_items``. Custom ids start with ``dd:`` and a letter for the kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, cast

import discord

from bot.content.scopes import Scope
from bot.core.actions import AskChoice, Button
from bot.core.bidi import for_display
from bot.core.events import ButtonPressed, Event, VoteCast
from bot.core.ids import GroupRef, PersonRef
from bot.platforms.render import Panel, shorten

CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
SELECT_LABEL_LIMIT = 100
SELECT_OPTIONS_LIMIT = 25
BUTTONS_LIMIT = 25
# Up to this many single answers are buttons; more, or several answers, use a select menu.
MOST_CHOICE_BUTTONS = 5
GROUP = r"(?P<group>[0-9/]*)"
STEP = r"(?P<step>[a-z0-9-]+)"

MakeEvent = Callable[[PersonRef, GroupRef | None, datetime], Event | None]


class Speaker(Protocol):
    """Whatever can say a message from the catalogue in the deployment's language."""

    def t(self, key: str, **params: object) -> str:
        """A message from the catalogue."""


class Receiver(Speaker, Protocol):
    """What the components need from the adapter (``client.receiver``)."""

    async def submit(
        self, interaction: discord.Interaction[Any], make: MakeEvent, about: str | None = None
    ) -> None:
        """Acknowledge the interaction and hand the event it stands for to the service."""


def receiver(interaction: discord.Interaction[Any]) -> Receiver:
    """The adapter behind the client that received this interaction."""
    return cast(Receiver, interaction.client.receiver)


def custom_id(*parts: str) -> str:
    """A custom id from its parts; a core payload too long for Discord is an error."""
    value = ":".join(("dd", *parts))
    if len(value) > CUSTOM_ID_LIMIT:
        raise ValueError(f"custom id longer than {CUSTOM_ID_LIMIT} characters: {value[:40]}...")
    return value


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"dd:b:{GROUP}:(?P<payload>.+)"
):
    """A core button: pressing it reports its payload (and, in private, the group it is about)."""

    def __init__(self, group: str, payload: str, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=shorten(label, BUTTON_LABEL_LIMIT),
                style=discord.ButtonStyle.primary,
                custom_id=custom_id("b", group, payload),
            )
        )
        self.group, self.payload = group, payload

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ActionButton:
        """Rebuild the button from its custom id."""
        return cls(match["group"], match["payload"], getattr(item, "label", None) or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Report the press."""
        payload = self.payload

        def make(person: PersonRef, group: GroupRef | None, at: datetime) -> Event:
            return ButtonPressed(person, group, payload, at)

        await receiver(interaction).submit(interaction, make, self.group or None)


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"dd:v:{STEP}:(?P<option>\d+)"
):
    """One answer of a single-answer question with few options."""

    def __init__(self, step: str, option: int, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=shorten(label, BUTTON_LABEL_LIMIT),
                style=discord.ButtonStyle.secondary,
                custom_id=custom_id("v", step, str(option)),
            )
        )
        self.step, self.option = step, option

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VoteButton:
        """Rebuild the button from its custom id."""
        return cls(match["step"], int(match["option"]), getattr(item, "label", None) or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Report the answer."""
        await receiver(interaction).submit(interaction, _vote(self.step, (self.option,)))


class VoteSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=rf"dd:s:{STEP}"):
    """A select menu of answers; several may be chosen at once for a multiple-answer question."""

    def __init__(
        self,
        step: str,
        options: list[discord.SelectOption],
        max_values: int,
        placeholder: str | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=custom_id("s", step),
                options=options,
                min_values=1,
                max_values=max_values,
                placeholder=placeholder,
            )
        )
        self.step = step

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VoteSelect:
        """Rebuild the menu from its custom id and the menu on the message."""
        menu = cast(discord.ui.Select[Any], item)
        return cls(match["step"], list(menu.options), menu.max_values, menu.placeholder)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Report every chosen answer at once, so a changed answer replaces the old one."""
        chosen = tuple(sorted(int(v) for v in self.item.values if v.isdigit()))
        await receiver(interaction).submit(interaction, _vote(self.step, chosen))


def _vote(step: str, options: tuple[int, ...]) -> MakeEvent:
    def make(person: PersonRef, group: GroupRef | None, at: datetime) -> Event | None:
        return VoteCast(person, group, step, options, at) if group is not None else None

    return make


# A consent form's state: the offered scopes in order, each with whether it is ticked. In a
# custom id each is its name after "+" (ticked) or "-", so an id names its scopes and stays
# valid whatever scopes are added later; a name no longer known is left out.
Form = tuple[tuple[Scope, bool], ...]
FORM = r"(?P<form>(?:[+-][a-z]+)+)"


def form_id(form: Form) -> str:
    """A consent form's state as it is written in custom ids: '+participate-quote'."""
    return "".join(("+" if ticked else "-") + scope.value for scope, ticked in form)


def read_form(text: str) -> Form:
    """A consent form's state from its custom id, without names that are no scope (now)."""
    marks = re.findall(r"([+-])([a-z]+)", text)
    marked = ((Scope.named(name), mark == "+") for mark, name in marks)
    return tuple((scope, ticked) for scope, ticked in marked if scope is not None)


class ConsentToggle(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"dd:s:{GROUP}:{FORM}:(?P<scope>[a-z]+)",
):
    """One scope of the consent form: pressing it ticks or unticks it (nothing is stored)."""

    def __init__(self, group: str, form: Form, scope: str, label: str) -> None:
        ticked = (scope, True) in form
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.success if ticked else discord.ButtonStyle.secondary,
                custom_id=custom_id("s", group, form_id(form), scope),
            )
        )
        self.group, self.form, self.scope = group, form, scope

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ConsentToggle:
        """Rebuild the toggle from its custom id."""
        form, label = read_form(match["form"]), getattr(item, "label", None) or ""
        return cls(match["group"], form, match["scope"], label)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Redraw the form with this scope flipped (one no longer known flips nothing)."""
        form = tuple((s, ticked != (s == self.scope)) for s, ticked in self.form)
        view = consent_view(receiver(interaction), self.group, form)
        await interaction.response.edit_message(view=view)


class ConsentConfirm(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"dd:c:{GROUP}:{FORM}",
):
    """Confirm the consent form: agree to the ticked scopes, as ``/agree`` would."""

    def __init__(self, group: str, form: Form, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary,
                disabled=not any(ticked for _, ticked in form),
                custom_id=custom_id("c", group, form_id(form)),
            )
        )
        self.group, self.form = group, form

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ConsentConfirm:
        """Rebuild the button from its custom id."""
        return cls(match["group"], read_form(match["form"]), getattr(item, "label", None) or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Report the agreement to the ticked scopes."""
        scopes = " ".join(scope for scope, ticked in self.form if ticked)

        def make(person: PersonRef, group: GroupRef | None, at: datetime) -> Event:
            return ButtonPressed(person, group, f"agree {scopes}", at)

        await receiver(interaction).submit(interaction, make, self.group or None)


COMPONENTS = (ActionButton, VoteButton, VoteSelect, ConsentToggle, ConsentConfirm)


def is_ours(custom: str) -> bool:
    """Whether a custom id is one a registered component answers."""
    return any(item.__discord_ui_compiled_template__.fullmatch(custom) for item in COMPONENTS)


def consent_view(speaker: Speaker, group: str, form: Form) -> discord.ui.View:
    """The consent form: one toggle per offered scope and a confirm button."""
    view = discord.ui.View(timeout=None)
    for scope, ticked in form:
        label = speaker.t("discord.toggle_on" if ticked else "discord.toggle_off", scope=scope)
        view.add_item(ConsentToggle(group, form, scope, label))
    view.add_item(ConsentConfirm(group, form, speaker.t("discord.confirm")))
    return view


def buttons_view(group: str, buttons: Sequence[Button]) -> discord.ui.View | None:
    """The core's buttons as persistent Discord buttons (None when there are none)."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons[:BUTTONS_LIMIT]:
        view.add_item(ActionButton(group, button.payload, button.label))
    return view


def choice_view(choice: AskChoice, speaker: Speaker) -> discord.ui.View:
    """Buttons for a few single answers; a select menu for more, or for several answers."""
    view = discord.ui.View(timeout=None)
    if choice.multiple or len(choice.options) > MOST_CHOICE_BUTTONS:
        options = [
            discord.SelectOption(label=shorten(numbered(n, text), SELECT_LABEL_LIMIT), value=str(n))
            for n, text in enumerate(choice.options[:SELECT_OPTIONS_LIMIT], start=1)
        ]
        most = len(options) if choice.multiple else 1
        hint = speaker.t("discord.choose_many" if choice.multiple else "discord.choose")
        view.add_item(VoteSelect(choice.step_id, options, most, hint))
    else:
        for number, option in enumerate(choice.options, start=1):
            view.add_item(VoteButton(choice.step_id, number, numbered(number, option)))
    return view


def numbered(number: int, option: str) -> str:
    """An answer with its number, as /vote takes it, marked for display.

    A scale's points are numbers already; the label reads in its first letter's direction.
    """
    label = option if option.split(" ", 1)[0] == str(number) else f"{number}. {option}"
    return for_display(label)


def embeds(panels: Sequence[Panel], images: Path) -> tuple[list[discord.Embed], list[discord.File]]:
    """Panels as embeds, with each picture attached and its alt text as the file description."""
    made: list[discord.Embed] = []
    files: list[discord.File] = []
    for panel in panels:
        embed = discord.Embed(title=panel.title or None, description=panel.description or None)
        for name, value in panel.fields:
            embed.add_field(name=name, value=value, inline=False)
        if panel.footer:
            embed.set_footer(text=panel.footer)
        picture = images / panel.image.path if panel.image is not None else Path()
        if panel.image is not None and picture.is_file():
            name = f"card-{len(files)}{picture.suffix}"
            files.append(discord.File(picture, filename=name, description=panel.image.alt))
            embed.set_image(url=f"attachment://{name}")
        made.append(embed)
    return made, files
