"""The house's import rules, read from the code's own imports (ARCHITECTURE.md draws them).

- ``records/`` and ``indexes/`` import nothing of ours;
- ``matching/`` (pure scoring) imports only ``indexes/`` and the domain types of
  ``records/``, never the store's functions or sessions;
- ``usecases/`` imports those three;
- ``api/`` imports only the use cases (the domain's words it shows come through
  ``usecases.vocabulary``, which only re-exports them);
- ``evaluation/`` imports anything but ``api/``;
- nothing imports ``evaluation/`` but the command line's eval, bench and demo commands;
- the development dependencies a benchmark compares against (Splink, DuckDB) are
  imported only under ``evaluation/``;
- no two packages import each other.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OURS = ("records", "indexes", "matching", "usecases", "api", "evaluation")

MAY_IMPORT: dict[str, set[str]] = {
    "records": set(),
    "indexes": set(),
    "matching": {"records", "indexes"},
    "usecases": {"records", "indexes", "matching"},
    "api": {"usecases", "evaluation"},
    "evaluation": {"records", "indexes", "matching", "usecases"},
}

# What matching/ may take from records/: the domain model, never the store.
DOMAIN_MODULES = {"records", "records.models", "records.enums", "records.errors",
                  "records.inputs"}  # fmt: skip

# Files of api/ that still import below the use cases. Paid off (issue 18): it stays
# empty; a file here would be a route or command that skipped the use-case layer.
API_DEBT: set[str] = set()

# The only product files that may import evaluation/: the CLI (its eval and bench
# commands import it inside the command) and the demo, which builds its set from it.
EVALUATION_USERS = {"api/cli.py", "api/demo.py"}


def _imports() -> dict[str, set[str]]:
    """Each of our source files (relative path) and the modules of ours it imports."""
    found: dict[str, set[str]] = defaultdict(set)
    for package in OURS:
        for path in (REPO / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = path.relative_to(REPO).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    modules = [node.module]
                else:
                    continue
                found[name].update(m for m in modules if m.split(".")[0] in OURS)
    return found


def _package(name: str) -> str:
    return name.split("/")[0].split(".")[0]


def test_each_package_imports_only_the_packages_below_it() -> None:
    wrong = sorted(
        f"{name} imports {module}"
        for name, modules in _imports().items()
        for module in modules
        if _package(module) != _package(name) and _package(module) not in MAY_IMPORT[_package(name)]
    )
    assert wrong == []


def test_matching_takes_only_domain_types_from_records() -> None:
    wrong = sorted(
        f"{name} imports {module}"
        for name, modules in _imports().items()
        if name.startswith("matching/")
        for module in modules
        if _package(module) == "records" and module not in DOMAIN_MODULES
    )
    assert wrong == []


def test_only_the_known_api_files_reach_below_the_use_cases() -> None:
    below = {
        name
        for name, modules in _imports().items()
        if name.startswith("api/")
        and any(_package(m) in {"records", "indexes", "matching"} for m in modules)
    }
    assert below <= API_DEBT, f"new api files skip the use cases: {sorted(below - API_DEBT)}"
    assert API_DEBT <= below, f"paid off, take them out of API_DEBT: {sorted(API_DEBT - below)}"


def test_the_vocabulary_only_re_exports_the_domains_words() -> None:
    tree = ast.parse((REPO / "usecases" / "vocabulary.py").read_text(encoding="utf-8"))
    body = tree.body[1:] if isinstance(tree.body[0], ast.Expr) else tree.body  # docstring
    kept = [
        ast.unparse(node)
        for node in body
        if not isinstance(node, ast.ImportFrom)
        and not (isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__")
    ]
    assert kept == [], "usecases/vocabulary.py re-exports; anything that does goes in a use case"


def test_nothing_in_the_product_imports_evaluation_but_the_cli_and_the_demo() -> None:
    users = {
        name
        for name, modules in _imports().items()
        if not name.startswith("evaluation/") and any(_package(m) == "evaluation" for m in modules)
    }
    assert users <= EVALUATION_USERS


DEVELOPMENT_ONLY = {"splink", "duckdb"}
"""Packages of the dev dependency group only: the product must not need them."""


def test_development_only_packages_are_imported_only_by_evaluation() -> None:
    wrong = []
    for package in OURS:
        if package == "evaluation":
            continue
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    modules = [node.module]
                else:
                    continue
                wrong += [f"{path.relative_to(REPO)} imports {m}" for m in modules
                          if m.split(".")[0] in DEVELOPMENT_ONLY]  # fmt: skip
    assert wrong == []


def test_no_two_packages_import_each_other() -> None:
    arrows = {
        (_package(name), _package(module))
        for name, modules in _imports().items()
        for module in modules
        if _package(module) != _package(name)
    }
    assert sorted((a, b) for a, b in arrows if (b, a) in arrows) == []


def test_matching_touches_no_file_but_its_own_package_data() -> None:
    # Reading the store's files (photos, models, caches) and writing any file is the use
    # cases'; matching reads only the tables that ship with it or with a package it uses
    # (names, places, the default model).
    writes = re.compile(r"\b(write_text|write_bytes|os\.replace|np\.save|savez|mkdir|unlink|"
                        r"open\(|read_bytes|np\.load)\b")  # fmt: skip
    reads = re.compile(r"\.read_text\(")
    wrong = []
    for path in sorted((REPO / "matching").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            code = line.split("#", 1)[0]
            if writes.search(code):
                wrong.append(f"{path.relative_to(REPO)}:{number}")
        # Package data: its own (resources.files) or a dependency's (find_spec: the
        # gazetteer that ships in cpca).
        if reads.search(text) and "resources.files(" not in text and "find_spec(" not in text:
            wrong.append(f"{path.relative_to(REPO)} reads a file that is not package data")
    assert wrong == []
