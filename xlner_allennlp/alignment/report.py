"""Plain-text summary tables for the command line and the benchmark."""
from typing import Any, List, Mapping, Sequence


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A left-aligned text table of ``rows`` (dicts) with one column per name in ``columns``."""
    cells: List[List[str]] = [list(columns)] + [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def percent(value: Any) -> Any:
    """A fraction in [0, 1] as a percentage rounded to one decimal (``None`` stays ``None``)."""
    return None if value is None else round(100.0 * float(value), 1)
