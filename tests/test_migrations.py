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
