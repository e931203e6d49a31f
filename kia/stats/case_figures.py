"""Figures on the cases of the counted incidents. Each figure is one function, registered below."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import case, func
from sqlalchemy.orm import Session

from kia.cases.models import Case, CaseState
from kia.stats.aggregate import Selection, grouped, plain


@dataclass(frozen=True)
class CaseFigure:
    value: float | None
    basis: int  # how many cases the figure rests on: it is published only from the threshold up


FigureFunction = Callable[[Session, Selection, datetime, datetime], dict[tuple, CaseFigure]]


def share_closed(session: Session, selection: Selection, start: datetime, end: datetime) -> dict[tuple, CaseFigure]:
    """The share of the incidents' cases that are closed (rejected cases count as not closed)."""
    closed = func.count(case((Case.state == CaseState.CLOSED, 1)))
    statement = grouped(selection, start, end, func.count(Case.id), closed, join_cases=True)
    width = len(selection.keys)
    figures = {}
    for row in session.execute(statement):
        cases, closed_cases = row[width], row[width + 1]
        figures[tuple(plain(v) for v in row[:width])] = CaseFigure(round(closed_cases / cases, 3) if cases else None, cases)
    return figures


CASE_FIGURES: dict[str, FigureFunction] = {"share_closed": share_closed}

# Not computed until case handling stores what they need (closed_at, obligations, AV reports);
# each becomes one function in CASE_FIGURES then. Listed so reports can say what is missing.
PENDING_CASE_FIGURES = ("median_days_to_close", "reported_to_work_environment_authority", "overdue_obligations")
