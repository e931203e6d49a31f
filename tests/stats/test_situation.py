"""The lägesbild's own figures: serious events and overdue obligations, published alone with suppression."""
from datetime import datetime, timezone

from sqlalchemy import select

from kia.cases.models import Case
from kia.deadlines.models import Obligation
from kia.stats.periods import Tertial
from kia.stats.situation import situation_picture
from tests.conftest import TZ

NOW = datetime(2026, 9, 15, 12, tzinfo=timezone.utc)


def picture(db, make, threshold=5):
    analyst = make.actor(("analyst", "STHLM"))
    return situation_picture(db, analyst, "UTBF", Tertial(2026, 2), TZ, threshold, now=NOW)


def test_serious_events_and_overdue_obligations(db, make, tree, incidents):
    incidents.add("S1", datetime(2026, 6, 1, 10), n=6)
    incidents.add("F1", datetime(2026, 6, 1, 10), n=6)  # another administration
    cases = db.scalars(select(Case).order_by(Case.id)).all()
    for case in cases[:5] + cases[6:]:
        case.serious = True
    for case, due in zip(cases, [datetime(2026, 9, 1, tzinfo=timezone.utc)] * 3 + [datetime(2026, 10, 1, tzinfo=timezone.utc)]):
        db.add(Obligation(case_id=case.id, starts_at=due, due_at=due))
    db.commit()
    result = picture(db, make)
    assert (result.serious.value, result.serious.suppressed) == (5, False)
    assert (result.overdue.value, result.overdue.suppressed) == (None, True)  # 3 overdue: hidden
    assert picture(db, make, threshold=3).overdue.value == 3
    assert [t.label() for t in result.trend.tertials][-1] == "T2 2026"
    assert result.trend.totals[-1].value == 6
