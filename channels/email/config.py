"""E-mail channel settings from the environment (``TAWASUL_EMAIL_*``; table in README.md)."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot.errors import ConfigError
from channels.env import bounded_number

__all__ = ["EmailConfig", "Security", "tls_context"]

PREFIX = "TAWASUL_EMAIL_"
Security = Literal["tls", "starttls", "none"]
_SECURITY: tuple[Security, ...] = ("tls", "starttls", "none")
_IMAP_PORTS: dict[Security, int] = {"tls": 993, "starttls": 143, "none": 143}
_SMTP_PORTS: dict[Security, int] = {"tls": 465, "starttls": 587, "none": 25}
_REQUIRED = ("ADDRESS", "IMAP_HOST", "IMAP_PASSWORD", "SMTP_HOST")
_ADDRESS = re.compile(r"[^@\s<>\"]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+")
# IMAP mailbox names travel unquoted-but-safe here: printable ASCII without quotes/backslash.
_MAILBOX = re.compile(r"[A-Za-z0-9 ._/-]{1,100}")
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """One mailbox read over IMAP and answered over SMTP.

    ``*_security``: ``tls`` (implicit TLS: IMAPS 993 / SMTPS 465), ``starttls`` (plain
    connection upgraded before login: IMAP 143 / submission 587) or ``none`` (no TLS at all,
    accepted for loopback hosts only — the tests' servers). ``processed_mailbox`` empty means
    "flag processed mails instead of moving them". ``authserv_id`` is the receiving server's
    Authentication-Results id; without it no sender is ever ``email_verified``."""

    address: str
    imap_host: str
    imap_password: str
    smtp_host: str
    imap_port: int = 993
    imap_user: str = ""
    imap_security: Security = "tls"
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_security: Security = "starttls"
    from_name: str = ""
    bounce_address: str = ""
    mailbox: str = "INBOX"
    processed_mailbox: str = "Processed"
    poll_seconds: float = 60.0
    idle: bool = True
    timeout: float = 30.0
    ca_file: str | None = None
    authserv_id: str | None = None
    max_attachment_bytes: int = 10 * MIB
    max_attachments: int = 10
    redis_prefix: str = "tawasul:email"

    def __repr__(self) -> str:  # never print the passwords
        return (
            f"EmailConfig(imap={self.imap_host}:{self.imap_port}/{self.imap_security}, "
            f"smtp={self.smtp_host}:{self.smtp_port}/{self.smtp_security}, "
            f"mailbox={self.mailbox!r})"
        )

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @property
    def login(self) -> str:
        return self.imap_user or self.address

    @property
    def envelope_sender(self) -> str:
        return self.bounce_address or self.address

    @property
    def account_key(self) -> str:
        """Names this mailbox in Redis keys (cursor, seen Message-IDs, leader lock)."""
        return f"{self.login}@{self.imap_host}:{self.imap_port}/{self.mailbox}"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EmailConfig | None:
        """The configuration; None when none of ``ADDRESS``, ``IMAP_HOST``, ``IMAP_PASSWORD``,
        ``SMTP_HOST`` is set (the channel is off). Some of them set and others missing, or a
        value that is present but invalid (plain-text to a non-loopback host included) raise
        :class:`ConfigError`: the channel never runs half-configured."""

        def get(key: str) -> str:
            return (env.get(PREFIX + key) or "").strip()

        missing = [PREFIX + key for key in _REQUIRED if not get(key)]
        if len(missing) == len(_REQUIRED):
            return None
        if missing:
            raise ConfigError(f"e-mail channel half-configured; missing {', '.join(missing)}")
        address = _address(get("ADDRESS"), "ADDRESS")
        bounce = _address(get("BOUNCE_ADDRESS"), "BOUNCE_ADDRESS") if get("BOUNCE_ADDRESS") else ""
        imap_security = _security(get("IMAP_SECURITY") or "tls", "IMAP_SECURITY")
        smtp_security = _security(get("SMTP_SECURITY") or "starttls", "SMTP_SECURITY")
        imap_host, smtp_host = get("IMAP_HOST"), get("SMTP_HOST")
        _plaintext_allowed(imap_host, imap_security, "IMAP")
        _plaintext_allowed(smtp_host, smtp_security, "SMTP")
        smtp_user, smtp_password = get("SMTP_USER"), get("SMTP_PASSWORD")
        if smtp_user and not smtp_password:
            raise ConfigError(f"{PREFIX}SMTP_USER is set but {PREFIX}SMTP_PASSWORD is not")
        mailbox = _mailbox(get("MAILBOX") or "INBOX", "MAILBOX")
        processed = get("PROCESSED_MAILBOX") if PREFIX + "PROCESSED_MAILBOX" in env else "Processed"
        if processed:
            processed = _mailbox(processed, "PROCESSED_MAILBOX")
            if processed == mailbox:
                raise ConfigError(f"{PREFIX}PROCESSED_MAILBOX must differ from {PREFIX}MAILBOX")
        idle = (get("IDLE") or "on").lower()
        if idle not in ("on", "off"):
            raise ConfigError(f"{PREFIX}IDLE must be on or off")
        return cls(
            address=address,
            imap_host=imap_host,
            imap_password=get("IMAP_PASSWORD"),
            smtp_host=smtp_host,
            imap_port=_port(get("IMAP_PORT"), _IMAP_PORTS[imap_security], "IMAP_PORT"),
            imap_user=get("IMAP_USER"),
            imap_security=imap_security,
            smtp_port=_port(get("SMTP_PORT"), _SMTP_PORTS[smtp_security], "SMTP_PORT"),
            smtp_user=smtp_user,
            smtp_password=smtp_password,
            smtp_security=smtp_security,
            from_name=get("FROM_NAME"),
            bounce_address=bounce,
            mailbox=mailbox,
            processed_mailbox=processed,
            poll_seconds=_number(get("POLL_SECONDS"), 60.0, "POLL_SECONDS", 0.1, 29 * 60),
            idle=idle == "on",
            timeout=_number(get("TIMEOUT"), 30.0, "TIMEOUT", 0.1, 600),
            ca_file=get("CA_FILE") or None,
            authserv_id=get("AUTHSERV_ID").lower() or None,
            max_attachment_bytes=int(
                _number(get("MAX_ATTACHMENT_BYTES"), 10 * MIB, "MAX_ATTACHMENT_BYTES", 1, 1e9)
            ),
            max_attachments=int(_number(get("MAX_ATTACHMENTS"), 10, "MAX_ATTACHMENTS", 0, 100)),
        )


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying client context (system CAs, or ``ca_file`` — a private CA, the tests')."""
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)


def _address(value: str, key: str) -> str:
    if not _ADDRESS.fullmatch(value):
        raise ConfigError(f"{PREFIX}{key} is not an e-mail address")
    return value


def _security(value: str, key: str) -> Security:
    for option in _SECURITY:
        if value.lower() == option:
            return option
    raise ConfigError(f"{PREFIX}{key} must be one of {', '.join(_SECURITY)}")


def _plaintext_allowed(host: str, security: Security, what: str) -> None:
    if security != "none":
        return
    loopback = host == "localhost"
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    if not loopback:
        raise ConfigError(f"{what} without TLS is allowed to a loopback host only, not {host!r}")


def _mailbox(value: str, key: str) -> str:
    if not _MAILBOX.fullmatch(value):
        raise ConfigError(f"{PREFIX}{key} must be 1-100 ASCII letters, digits, space, ._/-")
    return value


def _port(raw: str, default: int, key: str) -> int:
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{PREFIX}{key} must be a TCP port")
    return int(raw)


def _number(raw: str, default: float, key: str, low: float, high: float) -> float:
    return bounded_number(raw, PREFIX + key, default, low, high)
