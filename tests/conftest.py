"""Shared pytest configuration. Keep each concern in its own section."""

# --- Real servers (tests/services.py) ------------------------------------------------------
# Session-scoped fixtures `redis_url` and `postgres_url`: real Redis / PostgreSQL on free
# loopback ports, started on first use and stopped at the end of the session.
pytest_plugins = ["tests.services"]
