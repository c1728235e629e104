"""Every service checks permissions inside its unit of work, so a refusal is put on record.

A ``NotPermitted`` leaving a unit of work is recorded as an ``access.refused`` event
(``core.uow``); one raised before the service opens its unit of work would be lost. This reads
each service (a keyword-only ``uow`` function in ``core/services``) and names any permission
check it makes outside its ``async with uow:`` block.
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "core" / "services"
CHECKS = {"authorize", "authorize_somewhere"}


def _is_check(node: ast.AST) -> bool:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id in CHECKS
    if isinstance(node, ast.Raise) and node.exc is not None:
        return "NotPermitted" in ast.unparse(node.exc)
    return False


def _checks_outside_the_unit_of_work(function: ast.AsyncFunctionDef) -> list[int]:
    inside: set[int] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.AsyncWith) and any(
            ast.unparse(item.context_expr) == "uow" for item in node.items
        ):
            inside.update(id(child) for child in ast.walk(node))
    return [
        node.lineno for node in ast.walk(function) if _is_check(node) and id(node) not in inside
    ]


def test_every_service_checks_permissions_inside_its_unit_of_work() -> None:
    outside = []
    for path in sorted(SERVICES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            keyword_uow = isinstance(node, ast.AsyncFunctionDef) and any(
                arg.arg == "uow" for arg in node.args.kwonlyargs
            )
            if keyword_uow:
                assert isinstance(node, ast.AsyncFunctionDef)
                outside += [f"{path.name}:{line} {node.name}" for line in
                            _checks_outside_the_unit_of_work(node)]  # fmt: skip
    assert outside == []
