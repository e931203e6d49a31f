"""The Alembic migrations produce exactly the models' schema, and run down and up again."""
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from kia import migrate
from kia.db import Base


def _diff(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


def test_migrations_match_models(engine):
    with engine.connect() as connection:
        assert _diff(connection) == []


def test_single_head():
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    from kia.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'roundtrip.db'}")
    with engine.begin() as connection:
        migrate.upgrade(connection)
        command.downgrade(migrate.alembic_config(connection), "base")
        assert set(Base.metadata.tables).isdisjoint(
            connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'").scalars().all())
        migrate.upgrade(connection)
        assert _diff(connection) == []
    engine.dispose()


def test_one_notification_per_user_keeps_what_was_read(tmp_path):
    """The in-app twin of each e-mail row goes, its read time kept; a lone in-app row stays, as sent."""
    from sqlalchemy.exc import IntegrityError

    from kia.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'notifications.db'}")
    columns = ("dedupe_key, user_id, channel, kind, language, payload, digest, status, attempts, next_attempt_at, "
               "last_error, created_at, read_at")
    with engine.begin() as connection:
        migrate.upgrade(connection, "routing_rule_changed_by")
        connection.exec_driver_sql("INSERT INTO users (id, email, name, active, language, daily_digest, created_at) "
                                   "VALUES (1, 'a@example.se', 'A', 1, 'sv', 0, '2026-11-01 08:00:00')")
        connection.exec_driver_sql(
            f"INSERT INTO notifications ({columns}) VALUES "
            "('new_case:1:u1:in_app', 1, 'in_app', 'new_case', 'sv', '{}', 0, 'sent', 0, '2026-11-01 08:00:00', '',"
            " '2026-11-01 08:00:00', '2026-11-02 09:00:00'),"
            "('new_case:1:u1:email', 1, 'email', 'new_case', 'sv', '{}', 0, 'sent', 1, '2026-11-01 08:00:00', '',"
            " '2026-11-01 08:00:00', NULL),"
            "('new_case:2:u1:in_app', 1, 'in_app', 'new_case', 'sv', '{}', 0, 'pending', 0, '2026-11-01 08:00:00', '',"
            " '2026-11-01 08:00:00', NULL)")
        migrate.upgrade(connection)
        rows = connection.exec_driver_sql(
            "SELECT dedupe_key, channel, status, read_at FROM notifications ORDER BY dedupe_key").all()
    assert [(key, channel, status, read_at is not None) for key, channel, status, read_at in rows] == [
        ("new_case:1:u1:email", "email", "sent", True),
        ("new_case:2:u1:email", "email", "sent", False),
    ]
    with engine.begin() as connection:
        try:
            connection.exec_driver_sql(
                f"INSERT INTO notifications ({columns}) VALUES ('x:u1:in_app', 1, 'in_app', 'new_case', 'sv', '{{}}',"
                " 0, 'sent', 0, '2026-11-01 08:00:00', '', '2026-11-01 08:00:00', NULL)")
        except IntegrityError:
            refused = True
        else:
            refused = False
    assert refused, "the in_app channel is gone: the CHECK constraint must refuse it"
    engine.dispose()


def test_persons_get_their_incidents_type_unit_and_time(tmp_path):
    """Persons filed before `persons_carry_incident` are given their incident's type, unit and time by it."""
    from datetime import datetime, timezone

    from sqlalchemy.orm import Session

    from kia.db import make_engine
    from kia.incidents.models import Incident, IncidentPerson, IncidentType
    from kia.incidents.numbering import provisional_number
    from kia.seed import ensure_reference_data
    from tests.factories import Factory

    engine = make_engine(f"sqlite:///{tmp_path / 'persons.db'}")
    at = datetime(2026, 10, 5, 9, 30, tzinfo=timezone.utc)
    with engine.begin() as connection:
        migrate.upgrade(connection)
        session = Session(bind=connection)
        ensure_reference_data(session)
        tree = Factory(session).tree()
        kind = session.query(IncidentType).filter_by(code="accident").one()
        incident = Incident(number=provisional_number(), incident_type=kind, org_unit=tree["S2"], occurred_at=at,
                            known_at=at, description="Föll i trappan.", persons=[IncidentPerson(
                                role="affected", category="pupil", gender="male", incident_type_id=kind.id,
                                org_unit_id=tree["S2"].id, occurred_at=at)])
        session.add(incident)
        session.flush()
        expected = (kind.id, tree["S2"].id)
        session.close()
        command.downgrade(migrate.alembic_config(connection), "reference_version")
        migrate.upgrade(connection)
        row = connection.exec_driver_sql(
            "SELECT incident_type_id, org_unit_id, occurred_at FROM incident_persons").one()
    assert row[:2] == expected
    assert row[2].startswith("2026-10-05 09:30")
    engine.dispose()
