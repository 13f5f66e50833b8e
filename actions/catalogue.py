"""The ticket service's service list (Open311 ``services``) in the citizen's language, fetched
once per language per process and kept on the runtime."""

from __future__ import annotations

import logging

from actions import runtime
from ticket_client import Service, TicketClientError

log = logging.getLogger(__name__)


async def services(language: str) -> tuple[Service, ...]:
    """Every service, names in ``language``. Raises the client's errors when the service
    cannot be reached (nothing is cached then)."""
    state = runtime.current()
    cached = state.services.get(language)
    if cached is None:
        cached = tuple(await state.open311.services(lang=language))
        state.services[language] = cached
    return cached


async def service_name(code: str, language: str) -> str:
    """The name of one service; its code when the catalogue cannot be had."""
    try:
        known = {s.service_code: s.service_name for s in await services(language)}
    except TicketClientError as exc:
        log.warning("service catalogue unavailable: %s", exc)
        return code
    return known.get(code, code)


async def warm(languages: tuple[str, ...]) -> None:
    """Fetch the catalogue ahead of the first question (best effort: a later call retries)."""
    for language in languages:
        try:
            await services(language)
        except TicketClientError as exc:
            log.info("service catalogue not fetched yet (%s): %s", language, exc)
            return
