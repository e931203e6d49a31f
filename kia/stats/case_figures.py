"""Figures on the cases opened in the period. Each figure is one definition, registered below; all of
them come from one GROUP BY over the cases, and the total's figures from the sums of the rows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Sequence

from sqlalchemy import ColumnElement, case, func
from sqlalchemy.orm import Session

from kia.cases.models import Case, CaseState
from kia.stats.aggregate import Selection, grouped, plain


@dataclass(frozen=True)
class CaseFigure:
    value: float | None
    basis: int  # how many cases the figure rests on: it is published only from the threshold up


@dataclass(frozen=True)
class FigureDefinition:
    """Additive aggregates over a group's cases (so a total is the sum of its rows), and the figure
    made from the number of cases and those sums."""

    sums: Callable[[], list[ColumnElement]]
    value: Callable[[int, Sequence[int]], float | None]


def _share(cases: int, sums: Sequence[int]) -> float | None:
    return round(sums[0] / cases, 3) if cases else None


# Rejected cases count as not closed: they were not handled to the end.
SHARE_CLOSED = FigureDefinition(sums=lambda: [func.count(case((Case.state == CaseState.CLOSED, 1)))], value=_share)

CASE_FIGURES: dict[str, FigureDefinition] = {"share_closed": SHARE_CLOSED}

# Not computed yet: they need what case handling is still building (closing times kept reliably,
# obligations, reports to Arbetsmiljöverket). Each becomes one definition in CASE_FIGURES.
PENDING_CASE_FIGURES = ("median_days_to_close", "reported_to_work_environment_authority", "overdue_obligations")


def case_figures(session: Session, selection: Selection, start: datetime,
                 end: datetime) -> tuple[dict[tuple, dict[str, CaseFigure]], dict[str, CaseFigure]]:
    """Every figure per key of `selection` and for all its cases together, opened in [start, end)."""
    widths = [(name, len(definition.sums())) for name, definition in CASE_FIGURES.items()]
    columns = [func.count()] + [c for definition in CASE_FIGURES.values() for c in definition.sums()]
    width = len(selection.keys)
    raw = {tuple(plain(v) for v in row[:width]): [int(x or 0) for x in row[width:]]
           for row in session.execute(grouped(selection, start, end, *columns, over_cases=True))}
    total = [sum(values) for values in zip(*raw.values())] or [0] * len(columns)

    def figures(values: list[int]) -> dict[str, CaseFigure]:
        out, offset = {}, 1
        for name, count in widths:
            out[name] = CaseFigure(CASE_FIGURES[name].value(values[0], values[offset:offset + count]), values[0])
            offset += count
        return out

    return {key: figures(values) for key, values in raw.items()}, figures(total)
