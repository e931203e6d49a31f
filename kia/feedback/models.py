"""An anonymous report's follow-up code (stored hashed) and the messages between reporter and handler."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kia.db import Base, utcnow
from kia.orgs.models import User

if TYPE_CHECKING:
    from kia.incidents.models import Incident


class FollowUpCode(Base):
    __tablename__ = "follow_up_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)   # SHA-256 of the code
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    incident: Mapped[Incident] = relationship()   # written with the filing's incident, in the same statement


class ReporterMessage(Base):
    """A message on a report between its (anonymous) reporter and the handlers."""

    __tablename__ = "reporter_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    from_reporter: Mapped[bool]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))   # the handler; never the reporter
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()
