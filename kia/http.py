"""What a request of the api/ and web/ layers reads of the app: its settings and session factory, the request's
database session and its actor. Flask-bound like the factory (kia/app.py), which builds the state; the layers
import this module and never the factory, so the factory's import of them is no circle."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy.orm import Session, sessionmaker

from kia.access import Actor
from kia.config import Settings


@dataclass
class KiaState:
    settings: Settings
    session_factory: sessionmaker[Session]


def state() -> KiaState:
    return current_app.extensions["kia"]


def db_session() -> Session:
    """The request's database session, opened on first use and closed when the request ends (close_db_session)."""
    if "db_session" not in g:
        g.db_session = state().session_factory()
    return g.db_session


def close_db_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def current_actor() -> Actor | None:
    """The authenticated actor of this request (API token or web session), or None."""
    return g.get("actor")
