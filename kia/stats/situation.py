"""The lägesbild of a unit for a tertial: what an administration puts into its tertial report – the trend
by type over six tertials, the units that changed most, serious events, overdue obligations and the
affected persons by gender. Every count goes through the same disclosure control as the API."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kia.access import Actor, subtree_ids
from kia.cases.models import Case
from kia.db import utcnow
from kia.deadlines.models import Obligation, ObligationStatus
from kia.orgs.models import OrgUnit
from kia.stats.periods import Period, Tertial
from kia.stats.services import Count, Report, Row, StatisticsQuery, readable_unit, statistics_of

TREND_TERTIALS = 6
LARGEST_CHANGES = 5
# Line colours for the most frequent types in charts: distinguishable, and dark enough on white.
TREND_COLOURS = ("#1f5fa8", "#c0392b", "#2e8540", "#8e44ad", "#b35900")


@dataclass
class Trend:
    tertials: list[Tertial]
    types: list[str]                     # codes, the most frequent first
    counts: dict[str, list[Count]]       # type -> one count per tertial
    totals: list[Count]


@dataclass
class SituationPicture:
    org_unit: OrgUnit
    tertial: Tertial
    threshold: int
    trend: Trend
    type_names: dict[str, str]
    changes: list[Row]                   # child units by size of change from the same tertial last year
    by_gender: Report                    # affected persons by gender and person category
    serious: Count                       # serious cases (AML 3:3a) opened in the tertial
    overdue: Count                       # obligations past due and still open, now


def situation_picture(session: Session, actor: Actor, org_unit: str, tertial: Tertial, tz: ZoneInfo,
                      threshold: int, now: datetime | None = None) -> SituationPicture:
    root = readable_unit(session, actor, org_unit)

    def report(t: Tertial, **query) -> Report:
        # Counts only: the page shows no case figures, and they were two thirds of its time in the database.
        query = StatisticsQuery(t.year, t.number, org_unit, case_figures=False, **query)
        return statistics_of(session, root, query, tz, threshold)

    history = [report(t, group_by=("type",)) for t in tertial.recent(TREND_TERTIALS)]
    units = report(tertial, group_by=("unit",), compare=("last_year",))
    changes = sorted((r for r in units.rows if r.change("last_year") is not None),
                     key=lambda r: (-abs(r.change("last_year")), r.key["unit"]))[:LARGEST_CHANGES]
    period = Period.of(tertial, "period", tz)
    subtree = subtree_ids([root.path])
    serious = session.scalar(select(func.count()).select_from(Case).where(
        Case.serious.is_(True), Case.created_at >= period.start, Case.created_at < period.end,
        Case.org_unit_id.in_(subtree)))
    overdue = session.scalar(select(func.count()).select_from(Obligation).join(Case).where(
        Obligation.status == ObligationStatus.OPEN, Obligation.due_at < (now or utcnow()),
        Case.org_unit_id.in_(subtree)))
    type_names = {code: name for r in history for code, name in r.labels.get("type", {}).items()}
    return SituationPicture(
        root, tertial, threshold, _trend(history), type_names, changes,
        report(tertial, group_by=("gender", "person_category")),
        _alone(serious, threshold), _alone(overdue, threshold))


def _alone(value: int, threshold: int) -> Count:
    """A count published on its own, without parts or totals that could give it away."""
    return Count(None, True) if 0 < value < threshold else Count(value)


def _trend(history: list[Report]) -> Trend:
    known = {}
    for report in history:
        for row in report.rows:
            known[row.key["type"]] = known.get(row.key["type"], 0) + (row.count.value or 0)
    types = sorted(known, key=lambda code: (-known[code], code))
    counts = {code: [next((r.count for r in report.rows if r.key["type"] == code), Count(0)) for report in history]
              for code in types}
    return Trend([r.period.tertial for r in history], types, counts, [r.total.count for r in history])
