"""The fault tests' own PostgreSQL database beside the suite's (they commit thousands of filings through a real
server), built as `kia db upgrade` and the demo organisation build it, with a token for every staff member."""
from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from bench.ingest_data import BenchData, prepare_database
from tests.conftest import POSTGRES_URL


@pytest.fixture
def fault_database() -> tuple[str, BenchData]:
    if not POSTGRES_URL:
        pytest.skip("a fault test runs gunicorn on PostgreSQL (KIA_TEST_DATABASE_URL): SQLite has no server to lose")
    test_url = make_url(POSTGRES_URL)
    url = test_url.set(database=f"{test_url.database}_faults").render_as_string(hide_password=False)
    return url, prepare_database(url)
