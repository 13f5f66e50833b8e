"""The bot's fixtures (``bot_stack``, ``citizen``, ``staff``, ``hub`` ...) live in
``tests/stack.py``, a plugin registered in ``tests/conftest.py`` so that tests/hub and
tests/channels share them. The names below stay importable from here."""

from __future__ import annotations

from tests.stack import ROOT, BotStack, CitizenFactory, Say, TicketService

__all__ = ["ROOT", "BotStack", "CitizenFactory", "Say", "TicketService"]
