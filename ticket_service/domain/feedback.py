"""What citizens tell us about our work: closure surveys (quality and speed) and ratings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ticket_service.context import Context
from ticket_service.db import idempotency
from ticket_service.db.schema import ratings, surveys
from ticket_service.domain import history
from ticket_service.domain.reporters import ticket_reporter_id
from ticket_service.domain.statuses import Kind, Status
from ticket_service.domain.tickets import find, lock
from ticket_service.domain.views import iso
from ticket_service.errors import Conflict, NotFound


class RatingKind(StrEnum):
    AGENT_SERVICE = "agent_service"
    ANSWER = "answer"


@dataclass(frozen=True)
class SurveyAnswer:
    ticket_number: str
    channel: str
    channel_user_id: str
    quality: int
    speed: int
    comment: str | None = None


@dataclass(frozen=True)
class NewRating:
    kind: RatingKind
    score: int
    conversation_id: str
    channel: str
    agent_id: str | None = None
    ticket_number: str | None = None


async def submit_survey(ctx: Context, answer: SurveyAnswer) -> dict[str, Any]:
    """Store the reporter's one closure survey. Only the reporter (or a linked identity) may answer,
    only after closure, only once."""
    now = ctx.clock.now()
    try:
        async with ctx.db.write() as conn:
            ticket = await lock(conn, answer.ticket_number)
            if ticket["kind"] != Kind.REPORT:
                raise Conflict("only reports have a closure survey")
            respondent = await ticket_reporter_id(
                conn, ticket, answer.channel, answer.channel_user_id, "answer its survey"
            )
            if ticket["status"] != Status.CLOSED:
                raise Conflict(
                    f"ticket {answer.ticket_number} is not closed yet; the survey opens on closure"
                )
            if (
                await conn.execute(select(surveys.c.id).where(surveys.c.ticket_id == ticket["id"]))
            ).first():
                raise Conflict(f"the survey of ticket {answer.ticket_number} was already answered")
            values = {
                "ticket_id": ticket["id"],
                "reporter_id": respondent,
                "quality": answer.quality,
                "speed": answer.speed,
                "comment": answer.comment,
                "created_at": now,
            }
            await conn.execute(surveys.insert().values(**values))
            await history.record(
                conn,
                ticket_id=ticket["id"],
                at=now,
                kind="survey",
                status=ticket["status"],
                actor=answer.channel,
                public=False,
                data={"quality": answer.quality, "speed": answer.speed},
            )
    except IntegrityError as exc:  # two answers raced past the check: the unique index decides
        raise Conflict(f"the survey of ticket {answer.ticket_number} was already answered") from exc
    return {
        "service_request_id": answer.ticket_number,
        "quality": answer.quality,
        "speed": answer.speed,
        "comment": answer.comment,
        "satisfied": (answer.quality + answer.speed) / 2 >= 4,
        "created_datetime": iso(now),
    }


async def add_rating(
    ctx: Context, new: NewRating, idempotency_key: str | None = None
) -> dict[str, Any]:
    """Store a rating; a retry with the same ``idempotency_key`` stores nothing new."""
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        earlier = await idempotency.seen(conn, ratings, idempotency_key)
        if earlier:
            return _rating_view(earlier, new.ticket_number)
        ticket_id = None
        if new.ticket_number:
            ticket = await find(conn, new.ticket_number)
            if ticket is None:
                raise NotFound(f"service_request_id {new.ticket_number} not found")
            ticket_id = ticket["id"]
        rid = (
            (
                await conn.execute(
                    ratings.insert()
                    .values(
                        kind=new.kind.value,
                        score=new.score,
                        conversation_id=new.conversation_id,
                        agent_id=new.agent_id,
                        channel=new.channel,
                        ticket_id=ticket_id,
                        created_at=now,
                        idempotency_key=idempotency_key,
                    )
                    .returning(ratings)
                )
            )
            .mappings()
            .one()
        )
    return _rating_view(dict(rid), new.ticket_number)


def _rating_view(row: dict[str, Any], ticket_number: str | None) -> dict[str, Any]:
    return {
        "rating_id": str(row["id"]),
        "kind": row["kind"],
        "score": row["score"],
        "conversation_id": row["conversation_id"],
        "agent_id": row["agent_id"],
        "channel": row["channel"],
        "service_request_id": ticket_number,
        "created_datetime": iso(row["created_at"]),
    }


async def survey_answered(conn: AsyncConnection, ticket_id: int) -> bool:
    """Whether the ticket's one closure survey was answered (the hub's reminder asks)."""
    found = await conn.execute(select(surveys.c.id).where(surveys.c.ticket_id == ticket_id))
    return found.first() is not None
