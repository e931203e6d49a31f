"""kia.db.bulk_insert and bulk_update: many rows by COPY on PostgreSQL (an executemany below COPY_FROM_ROWS,
and on SQLite), with the values bound as SQLAlchemy binds them and rows whose unique key is taken skipped."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from kia.cases.models import TimelineEntry
from kia.db import COPY_FROM_ROWS, bulk_insert, bulk_update
from kia.incidents.services import IncidentInput, file_incident
from kia.outbox.models import Channel, DeliveryStatus, Notification, NotificationKind
from tests.conftest import TZ
from tests.factories import THREAT_FIELDS

AT = datetime(2026, 11, 20, 7, 30, tzinfo=timezone.utc)


def _row(user_id: int, n: int) -> dict:
    return dict(dedupe_key=f"bulk:{n}:u{user_id}", user_id=user_id, webhook_id=None, channel=Channel.EMAIL,
                kind=NotificationKind.OVERDUE, case_id=None, language="sv",
                payload={"case_number": f"UTBF-2026-{n:05d}-1", "type_name": {"sv": "Hot och våld"}, "n": n},
                digest=False, status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=AT, last_error="",
                created_at=AT)


@pytest.mark.parametrize("count", [3, COPY_FROM_ROWS + 20])
def test_rows_arrive_as_bound_and_taken_keys_are_skipped(db, make, count):
    user = make.user()
    assert bulk_insert(db, Notification.__table__, [_row(user.id, 0)], skip_existing=("dedupe_key",)) == 1
    rows = [_row(user.id, n) for n in range(count)]   # the first one's key is taken already
    assert bulk_insert(db, Notification.__table__, rows, skip_existing=("dedupe_key",)) == count - 1
    stored = db.scalars(select(Notification).where(Notification.user_id == user.id)
                        .order_by(Notification.dedupe_key)).all()
    assert len(stored) == count
    last = next(n for n in stored if n.dedupe_key == f"bulk:{count - 1}:u{user.id}")
    assert last.channel == Channel.EMAIL and last.kind == NotificationKind.OVERDUE
    assert last.payload == {"case_number": f"UTBF-2026-{count - 1:05d}-1", "type_name": {"sv": "Hot och våld"},
                            "n": count - 1}
    assert last.next_attempt_at == AT and last.webhook_id is None


@pytest.mark.parametrize("count", [3, COPY_FROM_ROWS + 20])
def test_an_update_sets_each_row_its_own_values_and_no_other_row(db, make, count):
    user, other = make.user(), make.user()
    bulk_insert(db, Notification.__table__, [_row(user.id, n) for n in range(count)] + [_row(other.id, 0)])
    ids = db.scalars(select(Notification.id).where(Notification.user_id == user.id)).all()
    later = datetime(2026, 11, 21, tzinfo=timezone.utc)
    bulk_update(db, Notification.__table__, [
        {"id": i, "status": DeliveryStatus.FAILED, "attempts": i % 7, "next_attempt_at": later} for i in ids])
    db.expire_all()
    changed = db.scalars(select(Notification).where(Notification.user_id == user.id)).all()
    assert {(n.status, n.attempts, n.next_attempt_at) for n in changed} == {
        (DeliveryStatus.FAILED, i % 7, later) for i in ids}
    untouched = db.scalar(select(Notification).where(Notification.user_id == other.id))
    assert (untouched.status, untouched.attempts, untouched.next_attempt_at) == (DeliveryStatus.PENDING, 0, AT)


def test_json_values_and_nothing_left_behind_between_calls(db, make, reporter_case):
    entries = [{"case_id": reporter_case.id, "at": AT, "actor_id": None, "kind": "escalation", "field": "Kvittera",
                "old": None, "new": "due", "note": ""} for _ in range(COPY_FROM_ROWS)]
    before = len(db.scalars(select(TimelineEntry.id).where(TimelineEntry.case_id == reporter_case.id)).all())
    assert bulk_insert(db, TimelineEntry.__table__, entries) == COPY_FROM_ROWS
    assert bulk_insert(db, TimelineEntry.__table__, entries[:COPY_FROM_ROWS]) == COPY_FROM_ROWS   # not twice
    added = db.scalars(select(TimelineEntry).where(TimelineEntry.case_id == reporter_case.id,
                                                   TimelineEntry.kind == "escalation")).all()
    assert len(added) == 2 * COPY_FROM_ROWS and before + len(added) == len(db.scalars(
        select(TimelineEntry.id).where(TimelineEntry.case_id == reporter_case.id)).all())
    assert {(e.old, e.new, e.at) for e in added} == {(None, "due", AT)}


@pytest.fixture
def reporter_case(db, tree, make):
    actor = make.actor(("reporter", "S1"))
    data = IncidentInput(type="threat_violence", org_unit="S1", occurred_at=datetime(2026, 11, 19, 10, 0),
                         description="Hot i korridoren.", fields=dict(THREAT_FIELDS))
    return file_incident(db, actor, data, TZ, now=AT)[0].cases[0]
