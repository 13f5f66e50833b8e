"""Reporters: one row per channel identity; identities sharing a verified phone or e-mail
are one person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, not_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ticket_service.db.schema import reporters
from ticket_service.errors import Forbidden


@dataclass(frozen=True)
class Contact:
    """Who is talking to us, as the channel knows them."""

    channel: str
    channel_user_id: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    language: str | None = None
    phone_verified: bool = False
    email_verified: bool = False


async def find_reporter(conn: AsyncConnection, channel: str, user_id: str) -> dict[str, Any] | None:
    row = (
        (
            await conn.execute(
                select(reporters).where(
                    reporters.c.channel == channel, reporters.c.channel_user_id == user_id
                )
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def _upsert_statement(insert: Any) -> Any:
    stmt = insert(reporters)
    new = stmt.excluded
    updates: dict[str, Any] = {
        "updated_at": new.updated_at,
        "name": func.coalesce(new.name, reporters.c.name),
        "language": func.coalesce(new.language, reporters.c.language),
    }
    for field in ("phone", "email"):
        old_value, old_verified = reporters.c[field], reporters.c[f"{field}_verified"]
        new_value, new_verified = new[field], new[f"{field}_verified"]
        takes = and_(new_value.is_not(None), or_(new_verified, not_(old_verified)))
        updates[field] = case((takes, new_value), else_=old_value)
        updates[f"{field}_verified"] = case(
            (takes, or_(new_verified, and_(old_value == new_value, old_verified))),
            else_=old_verified,
        )
    return stmt.on_conflict_do_update(
        index_elements=[reporters.c.channel, reporters.c.channel_user_id], set_=updates
    ).returning(reporters.c.id)


# Built once per dialect: constructing this statement costs more than running it.
_UPSERT = {"postgresql": _upsert_statement(pg_insert), "sqlite": _upsert_statement(sqlite_insert)}


async def upsert_reporter(conn: AsyncConnection, contact: Contact, now: datetime) -> int:
    """The reporter id for this identity, created or updated with what the channel told us.

    One statement (``INSERT … ON CONFLICT DO UPDATE``). A known field is never blanked by a
    later message that lacks it, and a verified phone or e-mail is not overwritten by an
    unverified one.
    """
    params = {
        "channel": contact.channel,
        "channel_user_id": contact.channel_user_id,
        "name": contact.name,
        "phone": contact.phone,
        "email": contact.email,
        "phone_verified": bool(contact.phone and contact.phone_verified),
        "email_verified": bool(contact.email and contact.email_verified),
        "language": contact.language,
        "created_at": now,
        "updated_at": now,
    }
    return int((await conn.execute(_UPSERT[conn.dialect.name], params)).scalar_one())


async def linked_reporter_ids(conn: AsyncConnection, reporter_id: int) -> set[int]:
    """This reporter and every identity sharing one of its verified phone numbers or e-mails."""
    me = (
        (await conn.execute(select(reporters).where(reporters.c.id == reporter_id)))
        .mappings()
        .first()
    )
    if me is None:
        return set()
    clauses = []
    if me["phone"] and me["phone_verified"]:
        clauses.append(and_(reporters.c.phone == me["phone"], reporters.c.phone_verified.is_(True)))
    if me["email"] and me["email_verified"]:
        clauses.append(and_(reporters.c.email == me["email"], reporters.c.email_verified.is_(True)))
    ids = {reporter_id}
    if clauses:
        rows = await conn.execute(select(reporters.c.id).where(or_(*clauses)))
        ids.update(int(r) for r in rows.scalars())
    return ids


async def filer_id(
    conn: AsyncConnection, ticket: dict[str, Any], channel: str, user_id: str
) -> int | None:
    """The reporter id of the identity ``(channel, user_id)`` when it filed ``ticket`` or is
    linked to whoever did (a shared verified phone or e-mail); None for anyone else (followers
    are no reporters)."""
    me = await find_reporter(conn, channel, user_id)
    reporter_id = ticket["reporter_id"]
    allowed = await linked_reporter_ids(conn, reporter_id) if reporter_id is not None else set()
    return int(me["id"]) if me is not None and int(me["id"]) in allowed else None


async def ticket_reporter_id(
    conn: AsyncConnection, ticket: dict[str, Any], channel: str, user_id: str, doing: str
) -> int:
    """:func:`filer_id`, or Forbidden saying that only the citizen who filed the report may do
    ``doing``."""
    me = await filer_id(conn, ticket, channel, user_id)
    if me is None:
        raise Forbidden(f"only the citizen who filed the report can {doing}")
    return me


async def verify_contact(
    conn: AsyncConnection,
    channel: str,
    user_id: str,
    now: datetime,
    *,
    phone: str | None = None,
    email: str | None = None,
) -> int:
    """Record that the channel verified this identity's phone and/or e-mail (creating the identity
    when new). Identities sharing a verified phone or e-mail are then one person."""
    contact = Contact(
        channel,
        user_id,
        phone=phone,
        email=email,
        phone_verified=phone is not None,
        email_verified=email is not None,
    )
    return await upsert_reporter(conn, contact, now)


async def identities(conn: AsyncConnection, reporter_ids: set[int]) -> list[tuple[str, str]]:
    """(channel, channel_user_id) of each reporter, sorted."""
    if not reporter_ids:
        return []
    rows = await conn.execute(
        select(reporters.c.channel, reporters.c.channel_user_id).where(
            reporters.c.id.in_(reporter_ids)
        )
    )
    return sorted((str(r.channel), str(r.channel_user_id)) for r in rows)
