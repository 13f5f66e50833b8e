"""Shared pytest configuration. Keep each concern in its own section."""

# --- Plugins ---------------------------------------------------------------------------------
# tests/services.py: session fixtures `redis_url` and `postgres_url` (real Redis / PostgreSQL on
#   free loopback ports, started on first use, stopped at the end of the session).
# tests/stack.py: `bot_stack` (ticket service + action server + Rasa as real processes) and the
#   bot fixtures built on it (`citizen`, `say`, `staff`, `hub`, `ticket_service`, `rasa_server`).
# tests/hubstack.py: `hub_factory` (the hub, `python -m bot`, as a child process wired to the
#   bot stack and a real Redis).
pytest_plugins = ["tests.services", "tests.stack", "tests.hubstack"]
