"""Reporters: one row per channel identity; identities sharing a verified phone or e-mail are one person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ticket_service.db.schema import reporters


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
        await conn.execute(
            select(reporters).where(
                reporters.c.channel == channel, reporters.c.channel_user_id == user_id
            )
        )
    ).mappings().first()
    return dict(row) if row else None


async def upsert_reporter(conn: AsyncConnection, contact: Contact, now: datetime) -> int:
    """The reporter id for this identity, created or updated with what the channel told us.

    A known field is never blanked by a later message that lacks it, and a verified phone or
    e-mail is not overwritten by an unverified one.
    """
    existing = await find_reporter(conn, contact.channel, contact.channel_user_id)
    fields: dict[str, Any] = {"updated_at": now}
    for name in ("name", "language"):
        value = getattr(contact, name)
        if value:
            fields[name] = value
    for name in ("phone", "email"):
        value = getattr(contact, name)
        verified = getattr(contact, f"{name}_verified")
        if value and (existing is None or verified or not existing[f"{name}_verified"]):
            fields[name] = value
            fields[f"{name}_verified"] = verified or (
                existing is not None and existing[name] == value and existing[f"{name}_verified"]
            )
    if existing is None:
        fields.update(channel=contact.channel, channel_user_id=contact.channel_user_id, created_at=now)
        fields.setdefault("phone_verified", False)
        fields.setdefault("email_verified", False)
        result = await conn.execute(reporters.insert().values(**fields).returning(reporters.c.id))
        return int(result.scalar_one())
    await conn.execute(update(reporters).where(reporters.c.id == existing["id"]).values(**fields))
    return int(existing["id"])


async def linked_reporter_ids(conn: AsyncConnection, reporter_id: int) -> set[int]:
    """This reporter and every identity sharing one of its verified phone numbers or e-mails."""
    me = (await conn.execute(select(reporters).where(reporters.c.id == reporter_id))).mappings().first()
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
