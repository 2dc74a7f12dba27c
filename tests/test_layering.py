"""Dependencies point inward: the import graph is read from the source and checked."""

import ast
from pathlib import Path

import pytest

from tests.support.cli import ROOT

FORBIDDEN = {
    "bot/core": (
        "storage",
        "exporters",
        "bot.platforms",
        "bot.service",
        "bot.service_effects",
        "bot.app",
        "bot.cli",
        "bot.settings",
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
    "bot/content": (
        "bot.core",
        "bot.platforms",
        "bot.service",
        "bot.service_effects",
        "storage",
        "exporters",
        "sqlalchemy",
        "telegram",
        "discord",
    ),
    "bot/platforms": (
        "storage",
        "exporters",
        "bot.core.engine",
        "bot.core.steering",
        "bot.core.responses",
        "bot.core.consent",
        "bot.service",
        "bot.service_effects",
        "sqlalchemy",
    ),
    "storage": (
        "bot.platforms",
        "bot.service",
        "bot.service_effects",
        "bot.app",
        "bot.core.engine",
        "bot.core.steering",
        "bot.core.responses",
        "bot.core.consent",
        "exporters",
        "telegram",
        "discord",
    ),
    "exporters": (
        "bot.platforms",
        "bot.service",
        "bot.service_effects",
        "bot.app",
        "bot.core.engine",
        "bot.core.steering",
        "bot.core.responses",
        "telegram",
        "discord",
    ),
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(folder: str) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for name in sorted(imports_of(path)):
            for banned in FORBIDDEN[folder]:
                if name == banned or name.startswith(f"{banned}."):
                    found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_no_import_points_outward(folder: str) -> None:
    assert (ROOT / folder).is_dir()
    assert violations(folder) == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import sqlalchemy\nfrom storage.db import make_engine\n")
    assert imports_of(module) == {"sqlalchemy", "storage.db"}
