"""The action server's process-level state, and the only one: one ``aiohttp.ClientSession``, the
ticket-service clients built on it, and the service catalogue cached per language.

``python -m actions`` calls :func:`start` before the server accepts requests and :func:`stop`
after it stopped; actions reach the clients with :func:`current`. Configuration comes from the
environment (:func:`config_from_env`):

``TAWASUL_TICKET_URL``
    the ticket service, default ``http://127.0.0.1:8090``;
``TAWASUL_ACTIONS_API_KEY``
    a ``hub``-role API key; when unset, the ``hub=...`` entry of ``TAWASUL_API_KEYS`` (the
    ticket service's own key list, as ``make run`` writes it to ``.run/dev.env``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp

from ticket_client import ClientConfig, Open311Client, Service, TawasulClient
from ticket_service.config import Role, parse_api_keys

log = logging.getLogger(__name__)

DEFAULT_TICKET_URL = "http://127.0.0.1:8090"


@dataclass
class Runtime:
    session: aiohttp.ClientSession
    tickets: TawasulClient
    open311: Open311Client
    #: The Open311 service list per language, fetched once per process (see catalogue.py).
    services: dict[str, tuple[Service, ...]] = field(default_factory=dict)


_runtime: Runtime | None = None


def hub_key(api_keys: str) -> str | None:
    """The key of the ``hub`` role in the ticket service's ``role=key,role=key`` list."""
    return next((k for k, role in parse_api_keys(api_keys).items() if role == Role.HUB), None)


def config_from_env(env: Mapping[str, str]) -> ClientConfig:
    key = env.get("TAWASUL_ACTIONS_API_KEY") or hub_key(env.get("TAWASUL_API_KEYS", ""))
    if not key:
        log.warning("no hub API key (TAWASUL_ACTIONS_API_KEY or TAWASUL_API_KEYS hub=...)")
    return ClientConfig(base_url=env.get("TAWASUL_TICKET_URL") or DEFAULT_TICKET_URL, api_key=key)


async def start(config: ClientConfig) -> Runtime:
    """Open the session and build the clients (once per process)."""
    global _runtime
    if _runtime is not None:
        raise RuntimeError("the actions runtime is already started")
    session = aiohttp.ClientSession()
    _runtime = Runtime(session, TawasulClient(session, config), Open311Client(session, config))
    log.info("ticket service at %s", config.base_url)
    return _runtime


async def stop() -> None:
    """Close the session; the runtime can be started again afterwards."""
    global _runtime
    runtime, _runtime = _runtime, None
    if runtime is not None:
        await runtime.session.close()


def current() -> Runtime:
    """The started runtime; RuntimeError when the server did not start it."""
    if _runtime is None:
        raise RuntimeError("the actions runtime is not started (run `python -m actions`)")
    return _runtime
