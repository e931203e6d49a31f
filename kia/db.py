"""Declarative base, constraint naming, UTC timestamps and engine/session set-up for SQLite and PostgreSQL."""
from __future__ import annotations

import functools
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from psycopg import RawCursor
from sqlalchemy import JSON, DateTime, MetaData, Table, bindparam, create_engine, event, insert, inspect, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import MANYTOONE, ONETOMANY, DeclarativeBase, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def aware(value: datetime) -> datetime:
    """`value` when it has a time zone; ValueError otherwise (a UTC column refuses a naive time)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC; SQLite has no time zones, so naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        value = aware(value).astimezone(timezone.utc)
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


# Every id is an INTEGER column (SQLAlchemy's type for Mapped[int]): 32 bits on PostgreSQL. No row has an id outside
# 1..MAX_ID, on SQLite either, and a larger number must not reach a query: PostgreSQL refuses it for an INTEGER column,
# SQLite cannot bind one past 64 bits (an OverflowError, a 500, where the answer is "no such row").
MAX_ID = 2**31 - 1


def as_id(value: Any) -> int:
    """`value` (a number, or its digits) as an id a row can have; ValueError for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"not an id: {value!r}")
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"no row has the id {number}")
    return number


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


# What a database that is down, restarting or out of reach raises: refused connects, connections the server ended
# (SQLSTATE 57P01 on a restart) or that broke mid-statement, a pool with no connection to give. A request meeting
# one is answered 503 (try again), not 500, and a scheduler job tries again at its next time. The classes are wider
# (SQLite's "no such table" is an OperationalError too): `database_unavailable` tells which ones are an outage.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
# SQLSTATE classes of a lost or refused connection: 08 connection exception, 57P operator intervention (57P01 admin
# shutdown, 57P02 crash shutdown, 57P03 cannot connect now). psycopg gives None for a failure on the client's side.
_OUTAGE_SQLSTATES = ("08", "57P")


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached, rather than that a statement was wrong."""
    if isinstance(error, PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, (OperationalError, InterfaceError)) or not hasattr(error.orig, "sqlstate"):
        return False   # SQLite's driver has no SQLSTATE: its errors are about the file and the statement
    sqlstate = error.orig.sqlstate
    return sqlstate is None or sqlstate.startswith(_OUTAGE_SQLSTATES)


def unavailable_cause(error: BaseException) -> str:
    """The error's class and SQLSTATE for a log line: never its message, which may quote a statement."""
    original = getattr(error, "orig", None)
    sqlstate = getattr(original, "sqlstate", None)
    return f"{type(error).__name__}" + (f" ({type(original).__name__}, SQLSTATE {sqlstate})" if sqlstate
                                        else f" ({type(original).__name__})" if original is not None else "")


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


@functools.cache
def _insert_skipping(dialect, table: Table, keys: tuple[str, ...], skip_existing: tuple[str, ...]):
    """Compiled once per table and columns (filing queues its notices with it): the dialects' INSERTs with ON
    CONFLICT have no cache key, so SQLAlchemy would compile it again for every filing. Its SQL, and the bind
    processor of each parameter in the order the driver takes them."""
    statement = (postgresql if dialect.name == "postgresql" else sqlite).insert(table)
    if skip_existing:
        statement = statement.on_conflict_do_nothing(index_elements=list(skip_existing))
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    names = compiled.positiontup if compiled.positional else keys
    return compiled.string, compiled.positional, [
        (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names]


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]], skip_existing: tuple[str, ...] = ()) -> int:
    """Insert many rows (all with the same keys) in the session's transaction, skipping those whose unique
    key `skip_existing` is taken; returns how many were added. On PostgreSQL many rows are COPYed into a
    temporary table and inserted from it in one statement – several times faster than an executemany,
    which binds and sends each row; SQLite, in-process, takes the executemany."""
    if not rows:
        return 0
    if not _copies(session, rows):
        connection = session.connection()
        sql, positional, processors = _insert_skipping(connection.dialect, table, tuple(rows[0]), skip_existing)
        values = [{name: process(row[name]) if process else row[name] for name, process in processors}
                  for row in rows]
        # Both drivers sum rowcount over the rows; kept past the cursor's closing.
        return connection.exec_driver_sql(sql, [tuple(v.values()) for v in values] if positional else values,
                                          execution_options={"preserve_rowcount": True}).rowcount
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


def insert_pending(session: Session, keep: Any) -> None:
    """Write the session's new objects – a filing's incident and all that hangs off it – in the order the objects
    were added (so they get the ids a flush gives them), without the unit of work's bookkeeping, which cost a
    filing more than all its statements: on PostgreSQL in two statements (the ids from the sequences, then every
    table's rows at once), elsewhere with one INSERT per table. `keep` and what its collections hold (say the
    incident, its persons and cases, theirs in turn) stay in the session as if just loaded; the rest (say the
    timeline entries, which nothing loaded points to) are written and let go. Only for new objects: anything
    changed or deleted is left to a flush, which must have nothing to do at the time."""
    if session.dirty or session.deleted:
        raise RuntimeError("insert_pending writes new objects only; flush the session's changes first")
    pending = sorted(session.new, key=_insert_order)
    states = [instance_state(obj) for obj in pending]
    kept = _held_by(keep)
    # At once, without the cascade that each expunge walks: the whole graph is let go here.
    session._expunge_states(states)
    by_table: dict[Table, list] = {}
    for obj, state in zip(pending, states):
        writer = _writer(state.mapper)
        by_table.setdefault(writer.table, []).append(obj)
        if state.dict.get(writer.id_key) is not None:
            raise RuntimeError(f"{obj!r} has its id already: insert_pending leaves ids to the database")
    order = _table_order()
    # Parents before children, as their keys say; a table with an object to keep gets its ids back.
    tables = [(objects, any(id(obj) in kept for obj in objects))
              for objects in (by_table[table] for table in sorted(by_table, key=order.__getitem__))]
    if session.get_bind().dialect.name == "postgresql":
        _insert_graph(session, tables)
    else:
        for objects, with_ids in tables:
            _insert_rows_of(session, objects, with_ids)
    for obj in pending:
        if id(obj) in kept:
            make_transient_to_detached(obj)
    session.add(keep)   # and with it, by the cascade, what it reaches


def _insert_order(obj: Any) -> int:
    return instance_state(obj).insert_order


def _held_by(keep: Any) -> set[int]:
    """The ids of `keep` and of what its one-to-many collections hold, and theirs in turn: the objects that stay."""
    held, todo = set(), [keep]
    while todo:
        obj = todo.pop()
        if id(obj) not in held:
            held.add(id(obj))
            for attribute, _pairs in _writer(instance_state(obj).mapper).children:
                todo.extend(obj.__dict__.get(attribute) or ())
    return held


@dataclass(frozen=True)
class _TableWriter:
    """What writing a mapped class's new rows needs, worked out once per class."""

    table: Table
    returning: Any                       # INSERT … RETURNING the ids, in the rows' order
    plain: Any                           # INSERT
    values: list[tuple[str, str]]        # (column, attribute) of every column but the id
    id_column: str
    id_key: str                          # the id's attribute
    parents: list[tuple[str, list[tuple[str, str]]]]    # many-to-one: attribute, [(own key, parent's key)]
    children: list[tuple[str, list[tuple[str, str]]]]   # one-to-many: attribute, [(own key, child's key)]
    defaults: list[tuple[str, Any]]      # attribute, the column's default (a value or a callable)

    def columns(self, with_id: bool) -> list[tuple[str, str]]:
        return [(self.id_column, self.id_key), *self.values] if with_id else self.values


@functools.cache
def _table_order() -> dict[Table, int]:
    return {table: index for index, table in enumerate(Base.metadata.sorted_tables)}


@functools.cache
def _writer(mapper) -> _TableWriter:
    table = mapper.local_table
    keys = {column: mapper.get_property_by_column(column).key for column in table.columns}
    (primary_key,) = table.primary_key.columns

    def pairs(relationship):
        other = relationship.mapper
        return [(mapper.get_property_by_column(own).key, other.get_property_by_column(theirs).key)
                for own, theirs in relationship.local_remote_pairs]

    return _TableWriter(
        table=table, returning=insert(table).returning(primary_key, sort_by_parameter_order=True),
        plain=insert(table), values=[(column.name, key) for column, key in keys.items() if column is not primary_key],
        id_column=primary_key.name, id_key=keys[primary_key],
        parents=[(r.key, pairs(r)) for r in mapper.relationships if r.direction is MANYTOONE],
        children=[(r.key, pairs(r)) for r in mapper.relationships if r.direction is ONETOMANY],
        defaults=[(keys[c], c.default) for c in table.columns if c.default is not None])


def _rows_of(writer: _TableWriter, objects: list, with_ids: bool) -> list[dict[str, Any]]:
    """The objects' column values, after giving them their parents' keys (as a flush sets them) and their
    columns' defaults; with their ids when `with_ids` (given already), else without."""
    rows = []
    for obj in objects:
        values = obj.__dict__
        for attribute, pairs in writer.parents:   # a foreign key from the object it points at, as a flush sets it
            target = values.get(attribute)
            if target is not None:
                for own, parents in pairs:
                    setattr(obj, own, getattr(target, parents))
        for attribute, default in writer.defaults:
            if values.get(attribute) is None:
                setattr(obj, attribute, default.arg(None) if default.is_callable else default.arg)
        rows.append({name: values.get(key) for name, key in writer.columns(with_ids)})
    return rows


def _given_ids(writer: _TableWriter, objects: list, ids) -> None:
    """Each object its new id, and its children (in its one-to-many collections) their key to it."""
    for obj, new_id in zip(objects, ids):
        setattr(obj, writer.id_key, new_id)
        for attribute, pairs in writer.children:
            for child in obj.__dict__.get(attribute) or ():
                for own, childs in pairs:
                    setattr(child, childs, getattr(obj, own))


def _insert_rows_of(session: Session, objects: list, with_ids: bool) -> None:
    writer = _writer(inspect(objects[0]).mapper)
    rows = _rows_of(writer, objects, with_ids=False)
    connection = session.connection()
    if not with_ids:
        connection.execute(writer.plain, rows)
        return
    # One row is a plain INSERT … RETURNING; several take the sorted multi-row form, which costs more to build.
    ids = ([connection.execute(writer.returning, rows[0]).scalar_one()] if len(rows) == 1
           else connection.execute(writer.returning, rows).scalars().all())
    _given_ids(writer, objects, ids)


def _insert_graph(session: Session, tables: list[tuple[list, bool]]) -> None:
    """PostgreSQL: take the ids of the tables whose objects stay from their sequences in one statement, in the
    objects' order (as a flush would have them), then insert every table's rows in one more statement, each
    table an INSERT in a WITH: the foreign keys are checked at the statement's end, when all the rows are in.
    Both statements are compiled once per shape (tables and numbers of rows) and sent as the driver's SQL:
    building and compiling a statement of a hundred values each time cost more than the statements saved."""
    writers = [(_writer(inspect(objects[0]).mapper), objects, with_ids) for objects, with_ids in tables]
    connection = session.connection()
    numbered = [(writer, objects) for writer, objects, with_ids in writers if with_ids]
    if numbered:
        taking = _taking_ids(tuple((writer.table.name, len(objects)) for writer, objects in numbered))
        for (writer, objects), ids in zip(numbered, connection.exec_driver_sql(taking).one()):
            _given_ids(writer, objects, ids)
    shape, values = [], {}
    for i, (writer, objects, with_ids) in enumerate(writers):
        rows = _rows_of(writer, objects, with_ids)
        shape.append((writer.table, len(rows), with_ids))
        values.update({f"t{i}_{r}_{name}": value for r, row in enumerate(rows) for name, value in row.items()})
    sql, processors = _inserting(connection.dialect, tuple(shape))
    # A raw cursor takes the $n placeholders as they are: the default one parses a statement this long each time.
    # It is made by SQLAlchemy's own execution, so a lost connection is seen and reported as any other statement's.
    driver = connection.connection.driver_connection
    usual, driver.cursor_factory = driver.cursor_factory, RawCursor
    try:
        connection.exec_driver_sql(sql, tuple(process(values[name]) if process else values[name]
                                              for name, process in processors))
    finally:
        driver.cursor_factory = usual


@functools.lru_cache(maxsize=64)
def _taking_ids(tables: tuple[tuple[str, int], ...]) -> str:
    """SELECT one array of new ids per (table, how many), each in ascending order, from the table's sequence."""
    return "SELECT " + ", ".join(f"ARRAY(SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id "
                                 f"FROM generate_series(1, {count:d}) ORDER BY id)" for table, count in tables)


@functools.lru_cache(maxsize=512)
def _inserting(dialect, shape: tuple[tuple[Table, int, bool], ...]) -> tuple[str, list[tuple[str, Any]]]:
    """One INSERT per (table, rows, with ids) of `shape`, all but the last as data-modifying CTEs of the last,
    compiled with $n placeholders: its SQL, and for each $n in turn the value's name (t<table>_<row>_<column>)
    and the column type's bind processor."""
    inserts, processors = [], {}
    for i, (table, count, with_ids) in enumerate(shape):
        columns = [column for column in table.columns if with_ids or not column.primary_key]
        inserts.append(insert(table).values([
            {column.name: bindparam(f"t{i}_{r}_{column.name}", type_=column.type) for column in columns}
            for r in range(count)]))
        processors |= {f"t{i}_{r}_{column.name}": column.type.dialect_impl(dialect).bind_processor(dialect)
                       for r in range(count) for column in columns}
    *ctes, last = inserts
    statement = last.add_cte(*(each.cte(f"written_{i}") for i, each in enumerate(ctes))) if ctes else last
    names: list[str] = []

    def numbered(match) -> str:
        names.append(match[1])
        return f"${len(names)}"

    sql = re.sub(r"%\((\w+)\)s", numbered, statement.compile(dialect=dialect).string)
    return sql, [(name, processors[name]) for name in names]
