"""The webhook's secret-token header: constant-time, fail closed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

from bot.errors import SignatureError
from channels.telegram.verify import HEADER, verify

SECRET = "Tawasul_webhook-secret_0123456789"


def test_right_secret_passes_in_any_header_case() -> None:
    verify(b"{}", CIMultiDict({HEADER: SECRET}), SECRET)
    verify(b"{}", {HEADER.lower(): SECRET}, SECRET)
    verify(b"{}", {HEADER.upper(): SECRET}, SECRET)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {HEADER: ""},
        {HEADER: SECRET[:-1]},
        {HEADER: SECRET + "x"},
        {HEADER: SECRET.upper()},
        {HEADER: f" {SECRET}"},
        {"X-Telegram-Bot-Api-Secret": SECRET},
        {HEADER: "سر"},
        {HEADER: SECRET[:-1] + "\udcff"},
    ],
)
def test_wrong_or_missing_secret_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        verify(b"{}", headers, SECRET)


def test_no_configured_secret_refuses_everything() -> None:
    with pytest.raises(SignatureError):
        verify(b"{}", {HEADER: ""}, "")


@given(st.text(max_size=300))
def test_only_the_secret_itself_passes(value: str) -> None:
    try:
        verify(b"", {HEADER: value}, SECRET)
    except SignatureError:
        assert value != SECRET
    else:
        assert value == SECRET
