"""Which package may import which: the evaluation never imports the API, and the product
imports the evaluation only from the command line's eval and demo commands."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PRODUCT = ("records", "indexes", "matching", "api", "usecases")
EVALUATION_ALLOWED_IN = frozenset({"api/cli.py", "api/demo.py"})
"""The CLI's ``eval`` command, and the demo, whose sheets come from ``evaluation.demo_data``."""


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, top-level package) of every absolute import in a module."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


def _importing(packages: tuple[str, ...], imported: str) -> list[str]:
    """``path:line`` of every import of ``imported`` in the modules of ``packages``."""
    return [
        f"{path.relative_to(REPO).as_posix()}:{line}"
        for name in packages
        for path in sorted((REPO / name).rglob("*.py"))
        for line, package in _imports(path)
        if package == imported
    ]


def test_the_evaluation_never_imports_the_api() -> None:
    assert _importing(("evaluation",), "matching"), "is the search looking?"
    assert _importing(("evaluation",), "api") == []


def test_the_product_imports_the_evaluation_only_from_the_eval_and_demo_commands() -> None:
    found = _importing(PRODUCT, "evaluation")
    assert found, "is the search looking?"
    assert [f for f in found if f.split(":")[0] not in EVALUATION_ALLOWED_IN] == []
