"""What every domain operation needs: settings, the database and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from ticket_service.clock import Clock
from ticket_service.config import Settings
from ticket_service.db.engine import Database


@dataclass(frozen=True)
class Context:
    settings: Settings
    db: Database
    clock: Clock
