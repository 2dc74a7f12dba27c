"""Shell completion for ``dialogue``, written from the command line's own grammar.

One table of shell ``case`` patterns, read from :func:`bot.cli.parser.parser`, serves bash
and zsh alike: which words are commands, and what may follow the words typed so far
(commands, options, choices; nothing where a file or value is expected, so the shell offers
files). Each shell adds a few lines of its own glue around it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from shlex import quote

from bot.cli.parser import parser

BASH = """
_dialogue() {
    local at=dialogue reply='' i
    for ((i = 1; i < COMP_CWORD; i++)); do
        _dialogue_is_command "$at" "${COMP_WORDS[i]}" && at="$at ${COMP_WORDS[i]}"
    done
    _dialogue_candidates "$at" "${COMP_WORDS[COMP_CWORD-1]}"
    COMPREPLY=($(compgen -W "$reply" -- "${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F _dialogue dialogue
"""

ZSH = """
_dialogue() {
    local at=dialogue reply='' word
    for word in "${(@)words[2,CURRENT-1]}"; do
        _dialogue_is_command "$at" "$word" && at="$at $word"
    done
    _dialogue_candidates "$at" "${words[CURRENT-1]}"
    if [[ -n $reply ]]; then
        compadd -- ${=reply}
    else
        _files
    fi
}
compdef _dialogue dialogue
"""

GLUE = {"bash": BASH, "zsh": ZSH}


@dataclass
class Grammar:
    """What the shell needs to know of the parser, keyed by the command words so far."""

    commands: list[str] = field(default_factory=list)  # "dialogue cycle create"
    words: dict[str, list[str]] = field(default_factory=dict)  # what may follow each command
    values: dict[str, list[str]] = field(default_factory=dict)  # "COMMAND --option" -> choices

    def read(self, at: str, command: argparse.ArgumentParser) -> None:
        """Add the command ``at`` (its words so far) and, recursively, its subcommands."""
        words = self.words.setdefault(at, [])
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    words.append(name)
                    self.commands.append(f"{at} {name}")
                    self.read(f"{at} {name}", sub)
            elif action.option_strings:
                words.extend(action.option_strings)
                if action.nargs != 0:  # an option that takes a value: its choices, or files
                    for option in action.option_strings:
                        self.values[f"{at} {option}"] = [str(c) for c in action.choices or ()]
            elif action.choices:
                words.extend(str(c) for c in action.choices)


def script(shell: str) -> str:
    """The completion script for ``shell`` (bash or zsh), to be sourced or eval'd."""
    grammar = Grammar()
    grammar.read("dialogue", parser())
    is_command = "|".join(quote(c) for c in grammar.commands)
    values = "\n".join(
        f"        {quote(at)}) reply={quote(' '.join(choices))}; return;;"
        for at, choices in grammar.values.items()
    )
    words = "\n".join(
        f"        {quote(at)}) reply={quote(' '.join(following))};;"
        for at, following in grammar.words.items()
    )
    return f"""# dialogue completion for {shell}: eval "$(dialogue completion {shell})"
_dialogue_is_command() {{
    case "$1 $2" in
        {is_command}) return 0;;
    esac
    return 1
}}
_dialogue_candidates() {{
    case "$1 $2" in
{values}
    esac
    case "$1" in
{words}
    esac
}}
{GLUE[shell].lstrip()}"""
