"""TAWASUL_EMAIL_* → EmailConfig: off, half-configured, defaults, fail-closed TLS rules."""

from __future__ import annotations

import pytest

import channels.email
from bot.errors import ConfigError
from channels.email import EmailConfig

FULL = {
    "TAWASUL_EMAIL_ADDRESS": "reports@tawasul.test",
    "TAWASUL_EMAIL_IMAP_HOST": "imap.tawasul.test",
    "TAWASUL_EMAIL_IMAP_PASSWORD": "imap-secret",
    "TAWASUL_EMAIL_SMTP_HOST": "smtp.tawasul.test",
}


def config(**extra: str) -> EmailConfig:
    found = EmailConfig.from_env({**FULL, **{f"TAWASUL_EMAIL_{k}": v for k, v in extra.items()}})
    assert found is not None
    return found


def test_nothing_configured_means_the_channel_is_off() -> None:
    assert EmailConfig.from_env({}) is None
    assert channels.email.from_env({"TAWASUL_TELEGRAM_BOT_TOKEN": "1:x"}) is None


def test_half_configured_is_an_error_naming_what_is_missing() -> None:
    with pytest.raises(ConfigError, match="TAWASUL_EMAIL_IMAP_PASSWORD"):
        EmailConfig.from_env({k: v for k, v in FULL.items() if "PASSWORD" not in k})


def test_defaults_are_the_secure_production_ones() -> None:
    cfg = config()
    assert (cfg.imap_security, cfg.imap_port) == ("tls", 993)
    assert (cfg.smtp_security, cfg.smtp_port) == ("starttls", 587)
    assert cfg.login == "reports@tawasul.test" and cfg.mailbox == "INBOX"
    assert cfg.processed_mailbox == "Processed" and cfg.idle and cfg.poll_seconds == 60
    assert cfg.authserv_id is None  # nobody is verified until the server's id is configured
    assert cfg.envelope_sender == "reports@tawasul.test"
    assert channels.email.from_env(FULL) is not None


def test_ports_follow_the_security_mode() -> None:
    assert config(IMAP_SECURITY="starttls").imap_port == 143
    assert config(SMTP_SECURITY="tls").smtp_port == 465
    assert config(IMAP_PORT="10993").imap_port == 10993


@pytest.mark.parametrize("what", ["IMAP", "SMTP"])
def test_plain_text_is_refused_except_on_loopback(what: str) -> None:
    with pytest.raises(ConfigError, match="loopback"):
        config(**{f"{what}_SECURITY": "none"})
    host = {f"{what}_HOST": "127.0.0.1", f"{what}_SECURITY": "none"}
    assert getattr(config(**host), f"{what.lower()}_security") == "none"


def test_an_empty_processed_mailbox_means_flag_in_place() -> None:
    assert config(PROCESSED_MAILBOX="").processed_mailbox == ""
    with pytest.raises(ConfigError):
        config(PROCESSED_MAILBOX="INBOX")


@pytest.mark.parametrize(
    "key, value",
    [
        ("ADDRESS", "not-an-address"),
        ("IMAP_SECURITY", "ssl"),
        ("IMAP_PORT", "99999"),
        ("POLL_SECONDS", "0"),
        ("POLL_SECONDS", "3600"),  # IDLE must be renewed within 29 minutes
        ("MAILBOX", 'In"box'),
        ("IDLE", "maybe"),
        ("SMTP_USER", "only-a-user"),
    ],
)
def test_invalid_values_are_errors(key: str, value: str) -> None:
    with pytest.raises(ConfigError):
        config(**{key: value})


def test_repr_shows_no_secret() -> None:
    text = repr(config(SMTP_USER="u", SMTP_PASSWORD="smtp-secret"))
    assert "imap-secret" not in text and "smtp-secret" not in text
