"""Pure parts: event parsing (garbage → MalformedPayload), quiet hours, settings."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import ConfigError, MalformedPayload
from bot.events.model import TicketEvent, user_id_of
from bot.events.quiet import release_time
from bot.events.settings import NotifySettings


@given(st.binary(max_size=300))
def test_garbage_is_malformed_never_another_error(raw: bytes) -> None:
    with contextlib.suppress(MalformedPayload):
        TicketEvent.parse(raw)


def test_settings_off_without_secret_and_quiet_hours_override() -> None:
    assert NotifySettings.from_env({}) is None
    on = NotifySettings.from_env({"TAWASUL_EVENT_SECRET": "s", "TAWASUL_QUIET_HOURS": "off"})
    assert on is not None and on.quiet is None
    with pytest.raises(ConfigError):
        NotifySettings.from_env({"TAWASUL_EVENT_SECRET": "s", "TAWASUL_QUIET_HOURS": "25:00-7"})


@pytest.mark.parametrize(
    ("utc", "service", "release"),
    [
        (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "pothole", None),  # 12:00 Riyadh
        (
            datetime(2026, 3, 2, 19, 0, tzinfo=UTC),
            "pothole",
            datetime(2026, 3, 3, 4, 0, tzinfo=UTC),
        ),
        (
            datetime(2026, 3, 2, 3, 59, tzinfo=UTC),
            "pothole",
            datetime(2026, 3, 2, 4, 0, tzinfo=UTC),
        ),
        (datetime(2026, 3, 2, 4, 0, tzinfo=UTC), "pothole", None),  # 07:00 sharp
        (datetime(2026, 3, 2, 19, 0, tzinfo=UTC), "sewage", None),  # urgent
    ],
)
def test_quiet_hours_riyadh(utc: datetime, service: str, release: datetime | None) -> None:
    settings = NotifySettings.from_env({"TAWASUL_EVENT_SECRET": "s"})
    assert settings is not None
    assert release_time(settings.quiet, utc, service) == release


def test_user_id_of_strips_the_conversation_prefix() -> None:
    assert user_id_of("whatsapp", "whatsapp:9665") == "9665"
    assert user_id_of("telegram", "70001") == "70001"
