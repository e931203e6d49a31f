"""Run the Alembic migrations from code (the `kia db upgrade` command and the tests)."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from kia.config import REPO_ROOT


def alembic_config(connection=None) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    config.attributes["configure_logging"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(connection=None, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection), revision)
