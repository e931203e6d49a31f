"""Declarative base, constraint naming, UTC timestamps and engine/session set-up for SQLite and PostgreSQL."""
from __future__ import annotations

import zlib
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, Table, bindparam, create_engine, event, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC; SQLite has no time zones, so naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# JSON on SQLite, JSONB on PostgreSQL (indexable, compact).
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide where transactions begin, so SAVEPOINTs work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # IMMEDIATE takes the write lock up front: two writers wait for each other (busy_timeout)
        # instead of one failing when it upgrades a read lock.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, pool_size: int = 5, **kwargs) -> Engine:
    # A failed statement's message (logged with its traceback) leaves out the values: they may be a
    # personal number, a name or a password hash.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", pool_size)
    kwargs.setdefault("max_overflow", pool_size)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine_or_connection) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_or_connection, expire_on_commit=False)


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# From this many rows on, PostgreSQL gets them by COPY: below, the temporary table costs more than it saves.
COPY_FROM_ROWS = 100


def _staged(session: Session, table: Table, rows: list[dict[str, Any]]):
    """COPY the rows into a temporary table shaped as `table`'s columns (types only: no constraints, no
    defaults, emptied at commit); returns the driver's cursor, the temporary table and the quoted columns.
    The values go as SQLAlchemy would bind them: enums as their values, JSON wrapped, times in UTC."""
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    quote = dialect.identifier_preparer.quote
    columns = [quote(name) for name in names]
    # One temporary table per set of columns: an insert and an update of one table stage different ones.
    staging = quote(f"staging_{table.name}_{zlib.crc32(' '.join(names).encode()):08x}")
    cursor = connection.connection.driver_connection.cursor()
    cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "
                   f"SELECT {', '.join(columns)} FROM {quote(table.name)} WITH NO DATA")
    cursor.execute(f"TRUNCATE {staging}")   # a table staged twice in one transaction starts empty again
    with cursor.copy(f"COPY {staging} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([process(row[name]) if process else row[name] for process, name in zip(processors, names)])
    return cursor, staging, columns


def _copies(session: Session, rows: list[dict[str, Any]]) -> bool:
    return session.connection().dialect.name == "postgresql" and len(rows) >= COPY_FROM_ROWS


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]], skip_existing: tuple[str, ...] = ()) -> int:
    """Insert many rows (all with the same keys) in the session's transaction, skipping those whose unique
    key `skip_existing` is taken; returns how many were added. On PostgreSQL many rows are COPYed into a
    temporary table and inserted from it in one statement – several times faster than an executemany,
    which binds and sends each row; SQLite, in-process, takes the executemany."""
    if not rows:
        return 0
    if not _copies(session, rows):
        connection = session.connection()
        statement = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert(table)
        if skip_existing:
            statement = statement.on_conflict_do_nothing(index_elements=list(skip_existing))
        # Both drivers sum rowcount over the rows; kept past the cursor's closing.
        return connection.execute(statement.execution_options(preserve_rowcount=True), rows).rowcount
    cursor, staging, columns = _staged(session, table, rows)
    quote = session.connection().dialect.identifier_preparer.quote
    conflict = f" ON CONFLICT ({', '.join(quote(n) for n in skip_existing)}) DO NOTHING" if skip_existing else ""
    cursor.execute(f"INSERT INTO {quote(table.name)} ({', '.join(columns)}) "
                   f"SELECT {', '.join(columns)} FROM {staging}{conflict}")
    return cursor.rowcount


def bulk_update(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Set the given columns of many rows, each row naming its primary key `id`, in the session's
    transaction: by COPY and one UPDATE … FROM on PostgreSQL, an executemany otherwise."""
    if not rows:
        return
    if not _copies(session, rows):
        changed = {name: bindparam(f"new_{name}") for name in rows[0] if name != "id"}
        statement = update(table).where(table.c.id == bindparam("row_id")).values(changed)
        session.connection().execute(statement, [
            {"row_id": row["id"], **{f"new_{name}": row[name] for name in changed}} for row in rows])
        return
    cursor, staging, columns = _staged(session, table, rows)
    target = session.connection().dialect.identifier_preparer.quote(table.name)
    assignments = ", ".join(f"{column} = staged.{column}" for column in columns if column != "id")
    cursor.execute(f"UPDATE {target} SET {assignments} FROM {staging} AS staged WHERE {target}.id = staged.id")


def recreate_postgres_database(url: str) -> None:
    """Drop and create the database `url` names, on its server (tests and benchmarks start from nothing)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
