"""A real Dovecot IMAP server for the e-mail tests (conftest's session fixture ``dovecot``).

Writes a private ``dovecot.conf`` in a temporary directory and runs ``/usr/sbin/dovecot -F
-c <conf>`` on free loopback ports: plain IMAP (with STARTTLS offered) and IMAPS, both with a
throw-away self-signed certificate for 127.0.0.1 (``ca_file``). The system Dovecot service is
neither used nor touched. Any user name logs in with :attr:`Dovecot.password` and gets its own
empty Maildir, so each test takes a fresh mailbox with :meth:`Dovecot.new_user`.

Dovecot runs unprivileged: as root it runs as ``nobody`` (its files under /tmp, owned by
``nobody``), otherwise as the calling user. :meth:`doveadm` runs ``doveadm`` the same way (the
tests change a mailbox's UIDVALIDITY with it). Needs the Debian package ``dovecot-imapd``
(``make packages``) and ``openssl`` (a dependency of ``dovecot-core``).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.services import ServiceError, free_port

DOVECOT = "/usr/sbin/dovecot"
STARTUP_TIMEOUT = 20.0
DOMAIN = "tawasul.test"

_CONF = """\
# Written by tests/channels/email/dovecot.py for one test session.
instance_name = tawasul-test-{instance}
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
mail_location = maildir:~/Maildir
auth_mechanisms = plain login
disable_plaintext_auth = no
ssl = yes
ssl_cert = <{base}/cert.pem
ssl_key = <{base}/key.pem
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={base}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost: (cert.pem, key.pem)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    # fmt: off
    result = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )
    # fmt: on
    if result.returncode != 0:
        raise ServiceError(f"openssl could not make a test certificate:\n{result.stderr}")
    return cert, key


def _accepts(port: int, banner: bool = True) -> bool:
    """Something listens on ``port`` (and greets with ``* OK`` when ``banner``: the IMAPS port
    says nothing before a TLS handshake)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            return not banner or s.recv(200).startswith(b"* OK")
    except OSError:
        return False


class Dovecot:
    """One Dovecot instance; ``start()`` / ``stop()`` (ports and mail kept), ``remove()``."""

    def __init__(self) -> None:
        if not os.access(DOVECOT, os.X_OK):
            raise ServiceError(f"{DOVECOT} not found; install dovecot-imapd (`make packages`)")
        pw = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        self.user = pw.pw_name
        self.group = grp.getgrgid(pw.pw_gid).gr_name
        self._as: dict[str, Any] = (
            {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []} if os.geteuid() == 0 else {}
        )
        self.base = Path(tempfile.mkdtemp(prefix="tawasul-dovecot-", dir="/tmp"))
        for sub in ("run", "state", "home"):
            (self.base / sub).mkdir()
        self.ca_file, _ = make_certificate(self.base)
        self.password = secrets.token_urlsafe(12)
        self.imap_port = free_port()
        self.imaps_port = free_port()
        self.conf = self.base / "dovecot.conf"
        self.conf.write_text(
            _CONF.format(
                instance=os.getpid(),
                base=self.base,
                user=self.user,
                group=self.group,
                password=self.password,
                imap_port=self.imap_port,
                imaps_port=self.imaps_port,
            )
        )
        os.chmod(self.base, 0o755)
        if os.geteuid() == 0:
            for path in [self.base, *self.base.rglob("*")]:
                os.chown(path, pw.pw_uid, pw.pw_gid)
        self.proc: subprocess.Popen[bytes] | None = None

    host = "127.0.0.1"

    @staticmethod
    def new_user() -> str:
        """A login (and address) nobody used yet: a fresh, empty mailbox."""
        return f"hub-{secrets.token_hex(4)}@{DOMAIN}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = (self.base / "dovecot.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.base,
            start_new_session=True,  # its own process group: stop() ends every child
            **self._as,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServiceError(f"dovecot exited at start-up:\n{self.log_tail()}")
            if _accepts(self.imap_port) and _accepts(self.imaps_port, banner=False):
                return
            time.sleep(0.05)
        self.stop()
        raise ServiceError(f"dovecot did not answer in time:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the master and every process it started (an IMAP process would otherwise
        keep its client connected for seconds), like a server going down."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        self.proc = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            _accepts(self.imap_port, banner=False) or _accepts(self.imaps_port, banner=False)
        ):
            time.sleep(0.05)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def doveadm(self, *args: str) -> str:
        """Run ``doveadm -c <conf> <args>`` as Dovecot's user; its stdout."""
        result = subprocess.run(
            ["doveadm", "-c", str(self.conf), *args],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            **self._as,
        )
        if result.returncode != 0:
            raise ServiceError(f"doveadm {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def env(self, user: str, security: str = "none") -> dict[str, str]:
        """The ``TAWASUL_EMAIL_IMAP_*`` settings for ``user`` over ``security``."""
        port = self.imaps_port if security == "tls" else self.imap_port
        return {
            "TAWASUL_EMAIL_IMAP_HOST": self.host,
            "TAWASUL_EMAIL_IMAP_PORT": str(port),
            "TAWASUL_EMAIL_IMAP_SECURITY": security,
            "TAWASUL_EMAIL_IMAP_USER": user,
            "TAWASUL_EMAIL_IMAP_PASSWORD": self.password,
            "TAWASUL_EMAIL_CA_FILE": str(self.ca_file),
        }


def running_dovecot() -> Iterator[Dovecot]:
    """A started Dovecot, removed afterwards (the body of conftest's ``dovecot`` fixture)."""
    server: Dovecot | None = None
    try:
        server = Dovecot()
        server.start()
    except ServiceError as e:
        if server is not None:
            server.remove()
        pytest.fail(str(e), pytrace=False)
    try:
        yield server
    finally:
        server.remove()
