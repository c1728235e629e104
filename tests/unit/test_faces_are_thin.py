"""The faces (web app, bot) hold no rule, query or permission check: those live in core.

A face may name an ``Action`` (to tell core what a refused tap was about) and ask
``core.areas`` what to offer; it may not import the policy's decision functions, the ORM
models or SQLAlchemy, nor use Reflex's own database layer (a unit of work may be passed on to core).

Nor does core import a face, or a face another face (the layers check at the end).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FACES = ("webapp", "bot")
FORBIDDEN_MODULES = ("sqlalchemy", "core.models", "core.db")
ALLOWED_FROM_POLICY = {"Action"}
FORBIDDEN_ATTRIBUTES = {("rx", "Model"), ("rx", "session"), ("rx", "asession")}


def _face_modules() -> list[Path]:
    return sorted(
        path
        for face in FACES
        for path in (ROOT / face).rglob("*.py")
        if ".web" not in path.parts and ".states" not in path.parts
    )


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
            if node.module == "core.policy":
                extra = {alias.name for alias in node.names} - ALLOWED_FROM_POLICY
                found += [f"line {node.lineno}: imports core.policy.{name}" for name in extra]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in FORBIDDEN_ATTRIBUTES:
                found.append(f"line {node.lineno}: uses {node.value.id}.{node.attr}")
            continue
        else:
            continue
        for name in names:
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_MODULES):
                found.append(f"line {node.lineno}: imports {name}")
    return found


def test_the_faces_have_modules_to_check() -> None:
    modules = _face_modules()
    assert len([m for m in modules if m.parts[-3:-1] == ("webapp", "pages")]) >= 10
    assert any(m.name == "gate.py" for m in modules)


@pytest.mark.parametrize("path", _face_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_face_module_leaves_rules_queries_and_permissions_to_core(path: Path) -> None:
    assert _problems(path) == []


def test_the_check_finds_a_permission_check_and_a_query_in_a_face(tmp_path: Path) -> None:
    face = tmp_path / "page.py"
    face.write_text(
        "from core.policy import Action, is_allowed\n"
        "from sqlalchemy import select\n"
        "import reflex as rx\n"
        "class Thing(rx.Model):\n"
        "    pass\n",
        encoding="utf-8",
    )
    assert _problems(face) == [
        "line 1: imports core.policy.is_allowed",
        "line 2: imports sqlalchemy",
        "line 4: uses rx.Model",
    ]


# Who may import whom, by top-level package. Core imports no face and nothing built on it; no
# face imports another. The faces start long-running services through ``processes`` (the one
# package allowed to import the bot), and the CLI fills databases through ``seeding``.
NOT_IMPORTED_BY = {
    "core": {"webapp", "bot", "cli", "seeding", "processes"},
    "ui": {"webapp", "bot", "cli", "seeding", "processes"},
    "webapp": {"bot", "cli", "seeding"},
    "bot": {"webapp", "cli", "seeding", "processes"},
    "cli": {"webapp", "bot"},
    "processes": {"webapp", "cli", "seeding"},
    "seeding": {"webapp", "bot", "cli", "processes"},
}


def _imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every import in ``path``, those inside functions too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def _layer_problems(package: str, path: Path) -> list[str]:
    forbidden = NOT_IMPORTED_BY[package]
    return [
        f"line {line}: {package} imports {name}"
        for line, name in _imported_packages(path)
        if name in forbidden
    ]


def _layer_modules() -> list[tuple[str, Path]]:
    return [
        (package, path)
        for package in NOT_IMPORTED_BY
        for path in sorted((ROOT / package).rglob("*.py"))
        if ".web" not in path.parts and ".states" not in path.parts
    ]


@pytest.mark.parametrize(
    ("package", "path"),
    [pytest.param(*module, id=str(module[1].relative_to(ROOT))) for module in _layer_modules()],
)
def test_core_imports_no_face_and_no_face_imports_another(package: str, path: Path) -> None:
    assert _layer_problems(package, path) == []


def test_every_layer_has_modules_to_check() -> None:
    assert {package for package, _ in _layer_modules()} == set(NOT_IMPORTED_BY)


def test_the_layer_check_finds_a_face_importing_another(tmp_path: Path) -> None:
    backend = tmp_path / "backend.py"
    backend.write_text(
        "import bot.app\n"
        "from processes.serve import serve_notifications\n"
        "def lifespan():\n"
        "    from cli.run import serve_notifications\n",
        encoding="utf-8",
    )
    assert _layer_problems("webapp", backend) == [
        "line 1: webapp imports bot",
        "line 4: webapp imports cli",
    ]
