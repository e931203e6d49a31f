"""Test set-up: a real database (SQLite file, or PostgreSQL from KIA_TEST_DATABASE_URL) migrated
with Alembic once per run; each test runs in a transaction that is rolled back afterwards."""
from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

import kia.models  # noqa: F401
from kia import migrate
from kia.app import create_app
from kia.config import Settings
from kia.db import make_engine, recreate_postgres_database
from kia.seed import ensure_reference_data
from tests.factories import ApiClient, Factory
from tests.logcheck import PasswordRecorder, RunLog, leaks

TZ = ZoneInfo("Europe/Stockholm")
POSTGRES_URL = os.environ.get("KIA_TEST_DATABASE_URL", "")


def _fresh_postgres(url: str) -> str:
    """Drop and create the named test database, so each run starts from nothing."""
    recreate_postgres_database(url)
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if POSTGRES_URL:
        return _fresh_postgres(POSTGRES_URL)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'kia-test.db'}"


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url, pool_size=25)
    with engine.begin() as connection:
        migrate.upgrade(connection)
    with Session(engine) as session:
        ensure_reference_data(session)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def is_postgres(engine) -> bool:
    return engine.dialect.name == "postgresql"


def record_statements(connection, request) -> list[str]:
    """The SQL the test's connection sends from now until the test ends, appended to the list returned."""
    statements: list[str] = []

    def listener(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", listener)
    request.addfinalizer(lambda: event.remove(connection, "before_cursor_execute", listener))
    return statements


@pytest.fixture
def connection(engine):
    connection = engine.connect()
    transaction = connection.begin()
    yield connection
    transaction.rollback()
    connection.close()


@pytest.fixture
def session_factory(connection) -> sessionmaker[Session]:
    # Services commit; on this connection a commit only releases a SAVEPOINT inside the test's transaction.
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def db(session_factory) -> Session:
    session = session_factory()
    yield session
    session.close()


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(instance_path=tmp_path, database_url=database_url, secret_key="test-secret-" + uuid.uuid4().hex,
                    timezone=TZ, session_cookie_secure=False, open311_enabled=True,
                    alarm_stream_seconds=0)   # an alarm stream sends what is open and ends: a test reads it whole


@pytest.fixture
def app(settings, session_factory):
    app = create_app(settings, session_factory=session_factory)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(db) -> Factory:
    return Factory(db)


@pytest.fixture
def tree(make):
    """STHLM → UTBF → GRU → S1, S2; UTBF → GYM → G1; STHLM → HAGALV → F1 (a förskola)."""
    return make.tree()


@pytest.fixture
def api(client, make) -> ApiClient:
    return ApiClient(client, make)


@pytest.fixture
def restore_logging():
    """For a test that runs kia.logs.configure_logging in this process: the logging set-up as it was, after it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    named = {name: logging.getLogger(name).level for name in ("apscheduler", "gunicorn.error", "gunicorn.access")}
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name, named_level in named.items():
        logging.getLogger(name).setLevel(named_level)


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + POSTGRES_URL if POSTGRES_URL else 'SQLite (set KIA_TEST_DATABASE_URL for PostgreSQL)'}"


REPO_ROOT = Path(__file__).resolve().parent.parent


# ---- no personal data in any log line of the run (tests/logcheck.py) -------------------------------

_run_log = RunLog()
_passwords = PasswordRecorder()


def pytest_sessionstart(session):
    _run_log.install()
    _passwords.install()


def pytest_sessionfinish(session, exitstatus):
    _run_log.uninstall()
    _passwords.uninstall()
    found = leaks("\n".join(_run_log.lines), {password: "a password" for password in _passwords.seen})
    output = REPO_ROOT / "test-output"
    output.mkdir(exist_ok=True)
    (output / "test-run.log").write_text("\n".join(_run_log.lines) + "\n", encoding="utf-8")
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = [f"{len(found)} log line(s) of this run hold personal data or a secret "
                 "(all lines in test-output/test-run.log):", *found[:20]]
        if reporter is not None:
            reporter.write_sep("=", "personal data in the log", red=True)
            for line in lines:
                reporter.write_line(line)
        else:
            print("\n".join(lines))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
