"""Figures on the cases opened in the period. Each figure is one definition, registered below: a
share (additive counts, all from one GROUP BY, so a total is the sum of its rows) or a median
(percentile_cont on PostgreSQL; on SQLite from a histogram per group, which adds up to the total's)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import ColumnElement, Integer, and_, case, func, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from kia.cases.models import Case, CaseState, Milestone, MilestoneKind
from kia.db import is_postgresql
from kia.stats.aggregate import Selection, grouped, plain

OPEN_STATES = [s for s in CaseState if s not in (CaseState.CLOSED, CaseState.REJECTED)]


@dataclass(frozen=True)
class CaseFigure:
    value: float | None
    basis: int  # how many cases the figure rests on: it is published only from the threshold up


@dataclass(frozen=True)
class Share:
    """`part` of `whole` (both counts of cases, as SQL aggregates over the group's cases)."""

    part: Callable[[datetime], ColumnElement[int]]
    whole: Callable[[datetime], ColumnElement[int]] = lambda now: func.count()


@dataclass(frozen=True)
class Median:
    """The median of a whole number per case (e.g. days), over the cases where `applies`."""

    value: Callable[[], ColumnElement[int]]
    applies: Callable[[], ColumnElement[bool]]


class days_between(FunctionElement):
    """Whole days from the first to the second timestamp."""

    type = Integer()
    inherit_cache = True


@compiles(days_between)
def _days_sqlite(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_postgresql(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(floor(extract(epoch FROM ({end} - {start})) / 86400) AS INTEGER)"


def _count(condition) -> ColumnElement[int]:
    return func.count(case((condition, 1)))


def _reported_to_av(now: datetime) -> ColumnElement[int]:
    # Uncorrelated IN: the database hashes the reported cases once (a correlated EXISTS is planned
    # as a lookup per case, which made the planner's estimate, and its JIT compilation, balloon).
    reported = Case.id.in_(select(Milestone.case_id).where(Milestone.kind == MilestoneKind.REPORTED_TO_AV))
    return _count(and_(Case.serious.is_(True), reported))


CASE_FIGURES: dict[str, Share | Median] = {
    # Rejected cases count as not closed: they were not handled to the end.
    "share_closed": Share(lambda now: _count(Case.state == CaseState.CLOSED)),
    "median_days_to_close": Median(lambda: days_between(Case.created_at, Case.closed_at),
                                   lambda: and_(Case.state == CaseState.CLOSED, Case.closed_at.is_not(None))),
    # Open cases with an obligation past its due time now (Case.next_due_at is the earliest open one).
    "share_overdue": Share(lambda now: _count(and_(Case.state.in_(OPEN_STATES), Case.next_due_at < now))),
    # Of the serious cases (AML 3:3a), the share reported to Arbetsmiljöverket.
    "share_serious_reported_to_av": Share(_reported_to_av, lambda now: _count(Case.serious.is_(True))),
}

# Every figure the issue asks for is computed; this lists those waiting for data case handling lacks.
PENDING_CASE_FIGURES: tuple[str, ...] = ()


def case_figures(session: Session, selection: Selection, start: datetime, end: datetime,
                 now: datetime) -> tuple[dict[tuple, dict[str, CaseFigure]], dict[str, CaseFigure]]:
    """Every figure per key of `selection` and for all its cases together, opened in [start, end):
    all shares from one GROUP BY, each median from a histogram (one more GROUP BY key: its value)."""
    shares = {name: f for name, f in CASE_FIGURES.items() if isinstance(f, Share)}
    columns = [c for share in shares.values() for c in (share.part(now), share.whole(now))]
    width = len(selection.keys)
    sums = {tuple(plain(v) for v in row[:width]): [int(x or 0) for x in row[width:]]
            for row in session.execute(grouped(selection, start, end, *columns, over_cases=True))}
    by_key: dict[tuple, dict[str, CaseFigure]] = {key: {} for key in sums}
    total: dict[str, CaseFigure] = {}
    for figures, values in [*((by_key[k], v) for k, v in sums.items()),
                            (total, [sum(v) for v in zip(*sums.values())] or [0] * len(columns))]:
        for index, name in enumerate(shares):
            part, whole = values[2 * index], values[2 * index + 1]
            figures[name] = CaseFigure(round(part / whole, 3) if whole else None, whole)
    for name, median in ((n, f) for n, f in CASE_FIGURES.items() if isinstance(f, Median)):
        per_key, total[name] = (_medians_in_database if is_postgresql(session) else _medians_from_histograms)(
            session, selection, start, end, median)
        for key, figure in per_key.items():
            by_key.setdefault(key, {})[name] = figure
    return by_key, total


def _medians_in_database(session, selection, start, end, median: Median):
    """PostgreSQL: percentile_cont per group and, in the same statement, overall (GROUPING SETS);
    the overall row is the one whose keys are NULL, which no group's keys ever are."""
    value = func.percentile_cont(0.5).within_group(median.value())
    statement = grouped(selection, start, end, value, func.count(), over_cases=True).where(median.applies())
    keys = list(statement.selected_columns)[:len(selection.keys)]
    statement = statement.group_by(None).group_by(func.grouping_sets(tuple_(*keys), tuple_()))
    width, per_key, total = len(keys), {}, CaseFigure(None, 0)
    for row in session.execute(statement):
        figure = CaseFigure(None if row[width] is None else float(row[width]), row[width + 1])
        if width and row[0] is not None:
            per_key[tuple(plain(v) for v in row[:width])] = figure
        else:
            total = figure
    return per_key, total


def _medians_from_histograms(session, selection, start, end, median: Median):
    """SQLite has no percentile: a histogram per group (value → cases), counted by the database."""
    histograms = _histograms(session, selection, start, end, median)
    return ({key: _median(histogram) for key, histogram in histograms.items()},
            _median(_merged(histograms.values())))


def _histograms(session, selection, start, end, median: Median) -> dict[tuple, dict[int, int]]:
    """Per key: value -> number of cases, counted by the database."""
    bucket = median.value().label("bucket")
    statement = (grouped(selection, start, end, bucket, func.count(), over_cases=True)
                 .where(median.applies()).group_by(bucket))
    width = len(selection.keys)
    histograms: dict[tuple, dict[int, int]] = {}
    for row in session.execute(statement):
        histograms.setdefault(tuple(plain(v) for v in row[:width]), {})[int(row[width])] = row[width + 1]
    return histograms


def _merged(histograms) -> dict[int, int]:
    merged: dict[int, int] = {}
    for histogram in histograms:
        for value, count in histogram.items():
            merged[value] = merged.get(value, 0) + count
    return merged


def _median(histogram: dict[int, int]) -> CaseFigure:
    cases = sum(histogram.values())
    if not cases:
        return CaseFigure(None, 0)
    middle, seen, values = (cases - 1) / 2, 0, []
    for value in sorted(histogram):
        # The one or two values at positions floor(middle) and ceil(middle) of the sorted list.
        for position in {int(middle), int(middle + 0.5)}:
            if seen <= position < seen + histogram[value]:
                values.append(value)
        seen += histogram[value]
    return CaseFigure(sum(values) / len(values), cases)

