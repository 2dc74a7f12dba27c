"""A tiny Bengali test catalogue and consent text: not the shipped translation (that is its own
work), just enough to tell which language each message went out in (each starts "BN")."""

from __future__ import annotations

from pathlib import Path

from bot.content.models import ConsentText
from bot.content.scopes import SCOPES
from bot.texts import Catalogue

BN = {
    "consent.header": "BN সম্মতি (সংস্করণ {version})",
    "consent.agreed": "BN ধন্যবাদ: {scopes}",
    "language.chosen": "BN এখন থেকে {name}",
    "language.session_set": "BN এই সেশন এখন {name}",
    "mydata.header": "BN আপনার তথ্য:",
    "mydata.language": "BN আপনার ভাষা: {name}",
    "session.ended": "BN সেশন শেষ",
    "step.choice_hint": "BN একটি উত্তর বেছে নিন",
    "withdraw.ask": "BN প্রত্যাহার?",
}
BN_CONSENT = ConsentText(
    language="bn",
    version="bn-1",
    intro="BN আমরা আপনার উত্তর সংরক্ষণ করি।",
    scopes={scope: f"BN {scope}" for scope in SCOPES},
)


def catalogue() -> Catalogue:
    """The shipped catalogue and the Bengali test messages."""
    english = dict(Catalogue.load()._messages["en"])  # noqa: SLF001 - the shipped messages
    return Catalogue({"en": english, "bn": BN})


def write_bn_consent(root: Path) -> None:
    """``BN_CONSENT`` as prompts/consent/bn.toml under the content ``root``."""
    scopes = "\n".join(f'{scope} = "{text}"' for scope, text in BN_CONSENT.scopes.items())
    (root / "prompts" / "consent" / "bn.toml").write_text(
        f'language = "bn"\nversion = "{BN_CONSENT.version}"\nintro = "{BN_CONSENT.intro}"\n'
        f"[scopes]\n{scopes}\n",
        encoding="utf-8",
    )
