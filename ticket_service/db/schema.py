"""The ticket store's tables (SQLAlchemy Core); the Alembic migrations in migrations/ match."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (no tz support) and PostgreSQL (timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _pk() -> Column[int]:
    return Column("id", Id, primary_key=True, autoincrement=True)


reporters = Table(
    "reporters",
    metadata,
    _pk(),
    Column("channel", String(32), nullable=False),
    Column("channel_user_id", String(255), nullable=False),
    Column("name", String(200)),
    Column("phone", String(32), index=True),
    Column("email", String(320), index=True),
    Column("phone_verified", Boolean, nullable=False, default=False),
    Column("email_verified", Boolean, nullable=False, default=False),
    Column("language", String(8)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel", "channel_user_id"),
)

tickets = Table(
    "tickets",
    metadata,
    _pk(),
    Column("number", String(16), nullable=False, unique=True),
    Column("token", String(36), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("service_code", String(32), nullable=False),
    Column("description", Text),
    Column("status", String(16), nullable=False),
    Column("resolution", String(32)),
    Column("status_note", Text),
    Column("municipality", String(32), nullable=False),
    Column("department", String(64), nullable=False),
    Column("lat", Float),
    Column("long", Float),
    Column("address", Text),
    Column("address_id", String(64)),
    Column("zipcode", String(16)),
    Column("media_urls", JSON, nullable=False),
    Column("attributes", JSON, nullable=False),
    Column("reporter_id", Id, ForeignKey("reporters.id")),
    Column("channel", String(32), nullable=False),
    Column("conversation_id", String(255)),
    Column("language", String(8)),
    Column("agent_id", String(64)),
    Column("sla_hours", Integer, nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("escalation_level", SmallInteger, nullable=False, default=0),
    Column("next_escalation_at", UTCDateTime),
    Column("idempotency_key", String(128), unique=True),
    Index(None, "next_escalation_at"),
    Index(None, "service_code", "status", "lat"),
    Index(None, "requested_at"),
    Index(None, "reporter_id"),
)

ticket_followers = Table(
    "ticket_followers",
    metadata,
    Column("ticket_id", Id, ForeignKey("tickets.id"), primary_key=True),
    Column("reporter_id", Id, ForeignKey("reporters.id"), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Every change to a ticket, in order: the full history staff see, and (public rows) the
# Open311 servicerequestupdates feed.
ticket_updates = Table(
    "ticket_updates",
    metadata,
    _pk(),
    Column("ticket_id", Id, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("status", String(32), nullable=False),
    Column("note", Text),
    Column("actor", String(64), nullable=False),
    Column("public", Boolean, nullable=False),
    Column("data", JSON, nullable=False),
)

escalations = Table(
    "escalations",
    metadata,
    _pk(),
    Column("ticket_id", Id, ForeignKey("tickets.id"), nullable=False),
    Column("level", SmallInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("reason", String(16), nullable=False),
    # "sla:<level>:<seq>" or "followup:<reference>": the same step is never recorded twice,
    # whatever number of schedulers race for it.
    Column("step_key", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False, index=True),
    UniqueConstraint("ticket_id", "step_key"),
)

followups = Table(
    "followups",
    metadata,
    _pk(),
    Column("reference", String(16), nullable=False, unique=True),
    Column("ticket_id", Id, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("reporter_id", Id, ForeignKey("reporters.id")),
    Column("channel", String(32), nullable=False),
    Column("text", Text),
    Column("voicemail_url", Text),
    Column("attachment_url", Text),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    Column("due_at", UTCDateTime, nullable=False),
    Column("contacted_at", UTCDateTime),
    Column("contact_note", Text),
    Column("closed_at", UTCDateTime),
    Column("outcome", String(32)),
    Column("outcome_note", Text),
    Column("idempotency_key", String(128), unique=True),
)

surveys = Table(
    "surveys",
    metadata,
    _pk(),
    Column("ticket_id", Id, ForeignKey("tickets.id"), nullable=False, unique=True),
    Column("reporter_id", Id, ForeignKey("reporters.id"), nullable=False),
    Column("quality", SmallInteger, nullable=False),
    Column("speed", SmallInteger, nullable=False),
    Column("comment", Text),
    Column("created_at", UTCDateTime, nullable=False),
)

ratings = Table(
    "ratings",
    metadata,
    _pk(),
    Column("kind", String(16), nullable=False),
    Column("score", SmallInteger, nullable=False),
    Column("conversation_id", String(255), nullable=False),
    Column("agent_id", String(64)),
    Column("channel", String(32), nullable=False),
    Column("ticket_id", Id, ForeignKey("tickets.id")),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    Column("idempotency_key", String(128), unique=True),
)

outbox_events = Table(
    "outbox_events",
    metadata,
    _pk(),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("type", String(48), nullable=False),
    Column("ticket_id", Id, ForeignKey("tickets.id")),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

outbox_deliveries = Table(
    "outbox_deliveries",
    metadata,
    _pk(),
    Column("outbox_event_id", Id, ForeignKey("outbox_events.id"), nullable=False),
    Column("target", String(64), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Column("last_error", Text),
    Index(None, "delivered_at", "next_attempt_at"),
)
