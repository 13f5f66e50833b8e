"""Migrations build exactly the schema the code uses, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ticket_service.db.engine import Database
from ticket_service.db.migrate import upgrade
from ticket_service.db.schema import metadata

from .conftest import BOTH_BACKENDS


@BOTH_BACKENDS
async def test_migrated_database_matches_the_schema(db: Database) -> None:
    def diff(sync_conn: Any) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(sync_conn), metadata))

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_upgrading_twice_keeps_data(db: Database, ctx: Any) -> None:
    from ticket_service.domain import tickets
    from ticket_service.domain.statuses import Kind

    created = await tickets.create(
        ctx,
        tickets.NewTicket(kind=Kind.REPORT, service_code="waste", channel="web", address="الدمام"),
    )
    await upgrade(db.engine)
    async with db.read() as conn:
        assert (await tickets.get(conn, created.ticket["number"]))["service_code"] == "waste"
