"""Dependencies point inward: the import graph is read from the source and checked.

Every module of ``bot``, ``storage`` and ``exporters`` belongs to one part (docs/architecture.md
draws them); each part lists the parts it may import, and the libraries it must not.
"""

import ast
from pathlib import Path

import pytest

from bot.platforms import registry
from tests.support.cli import ROOT

# One part per platform package, as the registry lists them.
PLATFORMS = tuple(f"bot.platforms.{name}" for name in registry.names())
# What each part may import of ours (besides itself). A module outside every part fails.
ALLOWED: dict[str, tuple[str, ...]] = {
    "bot.private_files": (),
    "bot.texts": (),
    "bot.content": ("bot.texts",),
    "bot.core": ("bot.content", "bot.texts"),
    "bot.settings": ("bot.content", "bot.platforms"),
    # Logging quietens each platform's library loggers, named in the platform registry.
    "bot.logs": ("bot.private_files", "bot.platforms"),
    "storage": ("bot.core", "bot.content", "bot.private_files"),
    "exporters": (
        "bot",
        "bot.core",
        "bot.content",
        "bot.texts",
        "bot.settings",
        "bot.private_files",
        "storage",
    ),
    "bot.platforms": ("bot.core", "bot.content", "bot.texts", "bot.settings", *PLATFORMS),
    **{
        platform: (
            "bot.core",
            "bot.content",
            "bot.texts",
            "bot.settings",
            "bot.private_files",
            "bot.platforms",
        )
        for platform in PLATFORMS
    },
    "bot.service": (
        "bot.core",
        "bot.content",
        "bot.texts",
        "bot.settings",
        "bot.private_files",
        "storage",
        "exporters",
    ),
    "bot.scheduling": (
        "bot.core",
        "bot.content",
        "bot.texts",
        "bot.settings",
        "bot.service",
        "storage",
        "exporters",
    ),
    "bot.app": (
        "bot",
        "bot.core",
        "bot.content",
        "bot.texts",
        "bot.settings",
        "bot.logs",
        "bot.private_files",
        "bot.service",
        "bot.scheduling",
        "storage",
        "exporters",
        *PLATFORMS,
        "bot.platforms",
    ),
    "bot.cli": ("*",),
    "bot": (),
    "bot.sample": (),
}
# Libraries a part must not import: the core has no I/O, clock or chance; the platforms'
# libraries stay in their packages; only storage speaks SQL.
BANNED_LIBRARIES: dict[str, tuple[str, ...]] = {
    "bot.core": (
        "sqlalchemy",
        "telegram",
        "discord",
        "aiosqlite",
        "asyncpg",
        "apscheduler",
        "logging",
        "time",
        "random",
    ),
    "bot.content": ("sqlalchemy", "telegram", "discord"),
    "bot.platforms": ("sqlalchemy", "telegram", "discord"),
    **{platform: ("sqlalchemy",) for platform in PLATFORMS},
    "bot.service": ("telegram", "discord"),
    "bot.scheduling": ("telegram", "discord"),
    "storage": ("telegram", "discord"),
    "exporters": ("telegram", "discord"),
}
# The engine's internals: a platform translates and performs, it never decides.
ENGINE_INTERNALS = (
    "bot.core.engine",
    "bot.core.steering",
    "bot.core.responses",
    "bot.core.consent",
)
FOLDERS = ("bot", "storage", "exporters")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str | None:
    """The longest part that ``module`` is, or lies in."""
    # The package ``bot`` itself is a part; its modules belong to the parts within it.
    found = [p for p in ALLOWED if module == p or (p != "bot" and module.startswith(f"{p}."))]
    return max(found, key=len) if found else None


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(source: str) -> set[str]:
    tree = ast.parse(source)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from bot.cli import run` imports the module bot.cli.run
            names.update(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if is_module(f"{node.module}.{alias.name}")
            )
    return names


def ours(name: str) -> bool:
    return name.split(".")[0] in FOLDERS


def violations(path: Path, source: str | None = None) -> list[str]:
    module = module_name(path)
    part = part_of(module)
    where = path.relative_to(ROOT)
    text = path.read_text(encoding="utf-8") if source is None else source
    if part is None:
        return [f"{where} belongs to no part: add it to a package or to ALLOWED"]
    allowed = ALLOWED[part]
    found = []
    for name in sorted(imports_of(text)):
        if ours(name):
            target = part_of(name)
            if target is None:
                # `from bot import __version__` names an attribute, not a module
                if name.rpartition(".")[0] in ("bot", *ALLOWED):
                    continue
                found.append(f"{where} imports {name}, which belongs to no part")
            elif target != part and "*" not in allowed and target not in allowed:
                found.append(f"{where} ({part}) imports {name} ({target})")
            elif part in PLATFORMS and name.startswith(ENGINE_INTERNALS):
                found.append(f"{where} imports the engine's internals: {name}")
        else:
            top = name.split(".")[0]
            if top in BANNED_LIBRARIES.get(part, ()):
                found.append(f"{where} ({part}) imports the library {top}")
    return found


def modules() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_import_points_outward(folder: str) -> None:
    found = [v for p in (ROOT / folder).rglob("*.py") for v in violations(p)]
    assert found == []


def test_every_module_belongs_to_a_part() -> None:
    assert len(modules()) > 100
    assert [p for p in modules() if part_of(module_name(p)) is None] == []


def test_the_checker_sees_a_forbidden_import() -> None:
    source = "import discord\nfrom bot.service.shell import Service\nfrom storage import db\n"
    assert imports_of(source) == {"discord", "bot.service.shell", "storage", "storage.db"}
    assert violations(ROOT / "storage" / "m.py", source) == [
        "storage/m.py (storage) imports bot.service.shell (bot.service)",
        "storage/m.py (storage) imports the library discord",
    ]


def test_the_checker_sees_a_module_outside_every_part() -> None:
    assert part_of("bot.stray") is None
    assert violations(ROOT / "bot" / "stray.py", "") == [
        "bot/stray.py belongs to no part: add it to a package or to ALLOWED"
    ]
    assert part_of("bot.service.shell") == "bot.service"
    assert part_of("bot.platforms.telegram.send") == "bot.platforms.telegram"


def test_the_architecture_doc_names_every_part() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    parts = [p for p in ALLOWED if p not in ("bot", "bot.sample", *PLATFORMS)]
    paths = [
        p.replace(".", "/") + ("/" if (ROOT / p.replace(".", "/")).is_dir() else ".py")
        for p in parts
    ]
    assert [path for path in paths if f"`{path}`" not in doc] == []
    assert "`bot/platforms/<name>/`" in doc
