"""The shared Meta code (channels/meta): text cutting, numbered choices, Graph error mapping,
configuration, media checks. Pure."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import ConfigError, PermanentSendError, RetryAfter, TransientSendError
from channels.meta.config import GraphConfig, required
from channels.meta.errors import send_error
from channels.meta.graph import trusted_media_url
from channels.meta.media import allowed_mime, sha256_matches
from channels.meta.menus import parse_choice
from channels.meta.textcut import _extends, split_text, truncate

# --- textcut -------------------------------------------------------------------------------

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one grapheme, 5 code points
SAUDI_FLAG = "\U0001f1f8\U0001f1e6"
THUMBS_DARK = "\U0001f44d\U0001f3ff"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 20, "short"),
        ("abcdefghij" + FAMILY, 12, "abcdefghij…"),
        ("abcdefghi" + SAUDI_FLAG + SAUDI_FLAG, 12, "abcdefghi" + SAUDI_FLAG + "…"),
        ("abcdefghi" + SAUDI_FLAG + SAUDI_FLAG, 11, "abcdefghi…"),
        ("abcdefgh" + THUMBS_DARK + "xyz", 10, "abcdefgh…"),
        ("كلمةٌ ثانيةٌ", 6, "كلمةٌ…"),
    ],
)
def test_truncate_never_splits_a_grapheme(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= limit


def test_split_prefers_paragraphs_then_lines_then_words() -> None:
    assert split_text("aaaa\n\nbbbb cccc", 10) == ["aaaa", "bbbb cccc"]
    assert split_text("aaaa bbbb\ncccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("   ", 10) == []


graphemes = st.sampled_from(
    [
        "a",
        "ب",
        "بُ",
        "لاً",
        "ب\u0651\u064e",
        FAMILY,
        SAUDI_FLAG,
        THUMBS_DARK,
        " ",
        "\n",
        "1\ufe0f\u20e3",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(graphemes, max_size=60), st.integers(min_value=5, max_value=40))
def test_split_keeps_every_character_and_every_limit(pieces: list[str], limit: int) -> None:
    text = "".join(pieces)
    chunks = split_text(text, limit)
    assert all(0 < len(c) <= limit for c in chunks)
    assert "".join(chunks).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )
    for chunk in chunks[1:]:
        assert not _extends(chunk[0])  # no chunk starts with a mark cut off its letter


@settings(max_examples=300, deadline=None)
@given(st.lists(graphemes, max_size=40), st.integers(min_value=2, max_value=30))
def test_truncate_is_a_prefix_within_the_limit(pieces: list[str], limit: int) -> None:
    text = "".join(pieces)
    cut = truncate(text, limit)
    assert len(cut) <= limit
    assert text.startswith(cut.removesuffix("…").rstrip()) or cut == text


# --- numbered choices ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "choice"),
    [("3", 3), (" ٣ ", 3), ("#12", 12), ("۷", 7), ("2.", 2), ("١٠", 10), ("3)", 3)],
)
def test_choices_in_any_digits(text: str, choice: int) -> None:
    assert parse_choice(text) == choice


@pytest.mark.parametrize("text", [None, "", "three", "3 please", "1234", "٣ب", "²", "-1"])
def test_not_a_choice(text: str | None) -> None:
    assert parse_choice(text) is None


# --- Graph error mapping (protocols.md §1.11) ----------------------------------------------


def graph_body(code: int, subcode: int | None = None, **extra: object) -> bytes:
    error: dict[str, object] = {
        "message": f"(#{code}) test",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbC",
        **extra,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return json.dumps({"error": error}).encode()


def test_429_honours_retry_after() -> None:
    error = send_error(429, graph_body(130429), {"Retry-After": "7"})
    assert isinstance(error, RetryAfter)
    assert error.seconds == 7.0


def test_rate_codes_without_header_use_the_code_default() -> None:
    pair = send_error(400, graph_body(131056), {})
    assert isinstance(pair, RetryAfter) and pair.seconds == 6.0
    throughput = send_error(400, graph_body(130429), {})
    assert isinstance(throughput, RetryAfter) and throughput.seconds == 2.0


def test_business_use_case_header_gives_the_wait_in_minutes() -> None:
    usage = json.dumps(
        {"102290129340398": [{"type": "whatsapp", "estimated_time_to_regain_access": 3}]}
    )
    error = send_error(400, graph_body(80007), {"X-Business-Use-Case-Usage": usage})
    assert isinstance(error, RetryAfter) and error.seconds == 180.0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_transient(status: int) -> None:
    error = send_error(status, b"<html>Bad gateway</html>", {})
    assert type(error) is TransientSendError


@pytest.mark.parametrize("code", [1, 2, 131000, 131016])
def test_temporary_graph_codes_are_transient(code: int) -> None:
    assert type(send_error(400, graph_body(code), {})) is TransientSendError


def test_is_transient_flag_is_honoured() -> None:
    assert type(send_error(400, graph_body(99, is_transient=True), {})) is TransientSendError


@pytest.mark.parametrize(
    ("code", "subcode"),
    [(131047, None), (131026, None), (100, None), (132000, None), (132001, None), (10, 2018278)],
)
def test_refusals_are_permanent(code: int, subcode: int | None) -> None:
    error = send_error(400, graph_body(code, subcode), {})
    assert type(error) is PermanentSendError
    assert f"code {code}" in str(error)


def test_expired_token_is_permanent_and_loud(caplog: pytest.LogCaptureFixture) -> None:
    error = send_error(401, graph_body(190), {})
    assert type(error) is PermanentSendError
    assert any("rotate" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)


# --- config, media, privacy ----------------------------------------------------------------


def test_required_is_off_when_nothing_is_set_and_refuses_half_configuration() -> None:
    assert required({}, ["A", "B"]) is None
    assert required({"A": " 1 ", "B": "2"}, ["A", "B"]) == {"A": "1", "B": "2"}
    with pytest.raises(ConfigError, match="missing B"):
        required({"A": "1", "B": " "}, ["A", "B"])


def test_graph_config_defaults_and_checks() -> None:
    assert GraphConfig.from_env({}) == GraphConfig("https://graph.facebook.com", "v24.0", 10.0)
    custom = GraphConfig.from_env(
        {"TAWASUL_META_GRAPH_URL": "http://127.0.0.1:9/", "TAWASUL_META_GRAPH_VERSION": "v25.0"}
    )
    assert custom.url("me", "messages") == "http://127.0.0.1:9/v25.0/me/messages"
    for bad in (
        {"TAWASUL_META_GRAPH_URL": "ftp://x"},
        {"TAWASUL_META_GRAPH_VERSION": "24"},
        {"TAWASUL_META_TIMEOUT": "soon"},
        {"TAWASUL_META_TIMEOUT": "0"},
    ):
        with pytest.raises(ConfigError):
            GraphConfig.from_env(bad)


def test_token_goes_only_to_meta_hosts_or_the_configured_graph_host() -> None:
    config = GraphConfig(base_url="http://127.0.0.1:8123")
    assert trusted_media_url("http://127.0.0.1:8123/whatsapp_business/attachments/?mid=1", config)
    assert not trusted_media_url("http://127.0.0.1:9999/x", config)
    real = GraphConfig()
    assert trusted_media_url("https://lookaside.fbsbx.com/whatsapp_business/attachments/", real)
    assert trusted_media_url("https://scontent.xx.fbcdn.net/v/t1.15752-9/1.jpg", real)
    assert not trusted_media_url("http://lookaside.fbsbx.com/x", real)
    assert not trusted_media_url("https://fbsbx.com.evil.example/x", real)
    assert not trusted_media_url("https://evil.example/lookaside.fbsbx.com", real)


def test_media_types_and_hashes() -> None:
    assert allowed_mime("image/jpeg") and allowed_mime("audio/ogg; codecs=opus")
    assert allowed_mime("application/pdf") and allowed_mime("video/mp4")
    assert not allowed_mime("image/svg+xml") and not allowed_mime("text/html")
    assert not allowed_mime("application/zip") and not allowed_mime(None)
    data = b"photo"
    assert sha256_matches(data, "f3a1b0d6c9aa7f2e" + "0" * 48) is False
    import base64
    import hashlib

    digest = hashlib.sha256(data).digest()
    assert sha256_matches(data, digest.hex())
    assert sha256_matches(data, base64.b64encode(digest).decode())


# --- signature -----------------------------------------------------------------------------


def test_signature_fails_closed_without_a_secret() -> None:
    from bot.errors import SignatureError
    from channels.meta.verify import sign, verify_signature

    raw = b'{"object":"page"}'
    verify_signature(raw, {"X-Hub-Signature-256": sign(raw, "s3cret")}, "s3cret")
    for secret in ("", "other"):
        with pytest.raises(SignatureError):
            verify_signature(raw, {"X-Hub-Signature-256": sign(raw, secret)}, "s3cret")
    with pytest.raises(SignatureError, match="not configured"):
        verify_signature(raw, {"X-Hub-Signature-256": sign(raw, "")}, "")
