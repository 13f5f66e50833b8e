"""A real SMTP server (aiosmtpd, in its own thread) standing in for the submission server.

Like a submission server (RFC 6409) it demands STARTTLS before AUTH and AUTH before mail, and
it checks every transaction the way the tests need a provider to: the envelope sender must be
the configured one, recipients are answered per :attr:`FakeSmtp.refuse` (``550 5.1.1`` or
``451 4.3.0``), and the message must carry the headers a threaded, loop-safe reply needs
(From = our address, To = the recipient, Subject, Date, Message-ID, Auto-Submitted,
``multipart/alternative`` with text and HTML). A failed check answers ``554 5.6.0 <reason>``
and is recorded in :attr:`FakeSmtp.problems`, so a test sees it either way.
"""

from __future__ import annotations

import email
import email.policy
import logging
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tests.services import free_port

USER = "hub-smtp"
# aiosmtpd 1.4 warns about its own deprecated Session.login_data on every AUTH: not ours.
logging.getLogger("mail.log").setLevel(logging.ERROR)
REQUIRED_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted")


@dataclass(frozen=True)
class Delivered:
    """One accepted transaction: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes


class FakeSmtp:
    """The server and what it saw. ``refuse`` maps a recipient to an SMTP reply."""

    def __init__(
        self, cert: Path, key: Path, sender: str, password: str, *, tls: bool = True
    ) -> None:
        self.sender = sender  # the envelope sender (MAIL FROM) allowed for the login
        self.from_address = sender  # the From header expected
        self.password = password
        self.delivered: list[Delivered] = []
        self.problems: list[str] = []
        self.refuse: dict[str, str] = {}
        self.logins: list[str] = []
        self._lock = threading.Lock()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.port = free_port()
        # tls=False: an old or downgraded server offering neither STARTTLS nor AUTH.
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            server_hostname="smtp.tawasul.test",
            tls_context=context if tls else None,
            require_starttls=tls,
            auth_required=tls,
            authenticator=self._authenticate if tls else None,
        )

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def reset(self) -> None:
        with self._lock:
            self.delivered.clear()
            self.problems.clear()
            self.refuse.clear()
            self.logins.clear()

    def env(self) -> dict[str, str]:
        """The ``TAWASUL_EMAIL_SMTP_*`` settings that reach this server."""
        return {
            "TAWASUL_EMAIL_SMTP_HOST": "127.0.0.1",
            "TAWASUL_EMAIL_SMTP_PORT": str(self.port),
            "TAWASUL_EMAIL_SMTP_SECURITY": "starttls",
            "TAWASUL_EMAIL_SMTP_USER": USER,
            "TAWASUL_EMAIL_SMTP_PASSWORD": self.password,
        }

    # --- aiosmtpd hooks (run in the server's thread) -----------------------------------------

    def _authenticate(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == USER
            and data.password.decode() == self.password
            and session.ssl is not None
        )
        if ok:
            with self._lock:
                self.logins.append(mechanism)
        return AuthResult(success=ok, handled=False)

    async def handle_MAIL(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address != self.sender:
            return self._problem(f"553 5.7.1 sender {address} not allowed for this login")
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        reason = self._check(message, envelope)
        if reason:
            return self._problem(f"554 5.6.0 {reason}")
        with self._lock:
            self.delivered.append(
                Delivered(str(envelope.mail_from), tuple(envelope.rcpt_tos), message, raw)
            )
        return "250 2.0.0 OK queued"

    def _check(self, message: EmailMessage, envelope: Envelope) -> str | None:
        missing = [name for name in REQUIRED_HEADERS if name not in message]
        if missing:
            return f"missing headers: {', '.join(missing)}"
        if parseaddr(str(message["From"]))[1] != self.from_address:
            return "From is not the account's address"
        if [parseaddr(str(message["To"]))[1]] != list(envelope.rcpt_tos):
            return "To does not match the envelope recipients"
        if message.get_content_type() != "multipart/alternative":
            return "not multipart/alternative"
        kinds = [part.get_content_type() for part in message.iter_parts()]
        if kinds != ["text/plain", "text/html"]:
            return f"alternative parts are {kinds}"
        return None

    def _problem(self, reply: str) -> str:
        with self._lock:
            self.problems.append(reply)
        return reply
