"""Markdown tables for the evaluation report and the benchmarks' result pages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def table_row(cells: Sequence[object]) -> str:
    """One table row; a None cell is left empty."""
    return "| " + " | ".join("" if c is None else str(c) for c in cells) + " |"


def table_lines(header: Sequence[object], rows: Iterable[Sequence[object]]) -> list[str]:
    """A table as lines: the header, the separator, then a line per row."""
    return [table_row(header), table_row(["---"] * len(header)), *map(table_row, rows)]
