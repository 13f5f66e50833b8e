"""Loop and auto-reply signals (protocols.md §6.3) and Authentication-Results (RFC 8601)."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from channels.email.authres import from_domain_verified
from channels.email.autoreply import is_system_address, no_reply_reason

OWN = frozenset({"reports@tawasul.test"})


def mail(headers: str, body: str = "hello", content_type: str = "text/plain") -> EmailMessage:
    raw = f"From: c@example.com\r\n{headers}Content-Type: {content_type}\r\n\r\n{body}\r\n"
    msg = BytesParser(policy=policy.default).parsebytes(raw.encode())
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.mark.parametrize(
    "headers, reason",
    [
        ("Auto-Submitted: auto-replied\r\n", "auto-submitted:auto-replied"),
        ("Auto-Submitted: auto-generated; type=x\r\n", "auto-submitted:auto-generated"),
        ("Auto-Submitted: auto-notified\r\n", "auto-submitted:auto-notified"),
        ("X-Autoreply: yes\r\n", "autoresponder"),
        ("X-Autorespond: on vacation\r\n", "autoresponder"),
        ("X-Autoreply-From: c@example.com\r\n", "autoresponder"),
        ("X-Mail-Autoreply: yes\r\n", "autoresponder"),
        ("X-Amazon-Auto-Reply: true\r\n", "autoresponder"),
        ("Precedence: bulk\r\n", "precedence:bulk"),
        ("Precedence: Junk\r\n", "precedence:junk"),
        ("Precedence: list\r\n", "precedence:list"),
        ("Precedence: auto_reply\r\n", "precedence:auto_reply"),
        ("List-Id: <news.example.com>\r\n", "mailing-list"),
        ("List-Unsubscribe: <mailto:x@example.com>\r\n", "mailing-list"),
        ("List-Post: NO\r\n", "mailing-list"),
        ("Feedback-ID: 1:campaign:gmail\r\n", "mailing-list"),
        ("Return-Path: <>\r\n", "null-return-path"),
        ("Return-Path: < >\r\n", "null-return-path"),
    ],
)
def test_signals(headers: str, reason: str) -> None:
    assert no_reply_reason(mail(headers), "c@example.com", OWN) == reason


@pytest.mark.parametrize(
    "report, reason",
    [
        ("delivery-status", "bounce"),
        ("disposition-notification", "read-receipt"),
        ("feedback-report", "abuse-report"),
        ("something-else", "report"),
    ],
)
def test_multipart_reports(report: str, reason: str) -> None:
    msg = mail("", "--b--", f'multipart/report; report-type={report}; boundary="b"')
    assert no_reply_reason(msg, "c@example.com", OWN) == reason


@pytest.mark.parametrize(
    "address, system",
    [
        ("MAILER-DAEMON@mx.example.com", True),
        ("postmaster@example.com", True),
        ("no-reply@example.com", True),
        ("noreply@example.com", True),
        ("do-not-reply@example.com", True),
        ("noreply+abc@example.com", True),
        ("news-request@lists.example.com", True),
        ("owner-news@lists.example.com", True),
        ("listserv@example.com", True),
        ("bounces@example.com", True),
        ("sara.khan@example.com", False),
        ("norah@example.com", False),
        ("replyguy@example.com", False),
    ],
)
def test_system_addresses(address: str, system: bool) -> None:
    assert is_system_address(address) is system


def test_an_ordinary_mail_may_be_answered() -> None:
    headers = "Auto-Submitted: no\r\nReturn-Path: <c@example.com>\r\nPrecedence: normal\r\n"
    assert no_reply_reason(mail(headers), "c@example.com", OWN) is None


def test_our_own_address_is_a_loop() -> None:
    assert no_reply_reason(mail(""), "reports@tawasul.test", OWN) == "own-address"


AUTHSERV = "mx.tawasul.test"


@pytest.mark.parametrize(
    "results, verified",
    [
        ("mx.tawasul.test; dmarc=pass header.from=example.com", True),
        ("mx.tawasul.test 1; dmarc=pass (p=reject) header.from=example.com", True),
        ("MX.Tawasul.Test; DMARC=Pass header.from=Example.COM", True),
        ("mx.tawasul.test; dkim=pass header.d=example.com header.s=s1", True),
        ("mx.tawasul.test; dkim=pass header.d=example.com", True),
        ("mx.tawasul.test; spf=pass smtp.mailfrom=bounce@example.com", True),
        ("mx.tawasul.test; spf=pass (sender permitted) smtp.mailfrom=example.com", True),
        ("mx.tawasul.test; dmarc=fail header.from=example.com", False),
        ("mx.tawasul.test; dmarc=pass header.from=other.example", False),
        ("mx.tawasul.test; dkim=pass header.d=evil.example", False),
        ("mx.tawasul.test; dkim=pass header.d=ample.com", False),  # not a parent domain
        ("mx.tawasul.test; spf=softfail smtp.mailfrom=example.com", False),
        ("mx.tawasul.test; spf=pass smtp.mailfrom=evil.example", False),
        ("mx.attacker.example; dmarc=pass header.from=example.com", False),  # not our server
        ("mx.tawasul.test; none", False),
        ("garbage ;;; = = (((", False),
    ],
)
def test_authentication_results(results: str, verified: bool) -> None:
    msg = mail(f"Authentication-Results: {results}\r\n")
    assert from_domain_verified(msg, "c@example.com", AUTHSERV) is verified


def test_dkim_of_a_parent_domain_covers_a_subdomain_sender() -> None:
    msg = mail("Authentication-Results: mx.tawasul.test; dkim=pass header.d=example.com\r\n")
    assert from_domain_verified(msg, "c@mail.example.com", AUTHSERV)


def test_only_the_topmost_header_of_our_server_counts() -> None:
    headers = (
        "Authentication-Results: mx.tawasul.test; dmarc=fail header.from=example.com\r\n"
        "Authentication-Results: mx.tawasul.test; dmarc=pass header.from=example.com\r\n"
    )  # the second one came with the mail: forged
    assert not from_domain_verified(mail(headers), "c@example.com", AUTHSERV)


def test_nothing_is_verified_without_an_authserv_id() -> None:
    msg = mail("Authentication-Results: mx.tawasul.test; dmarc=pass header.from=example.com\r\n")
    assert not from_domain_verified(msg, "c@example.com", None)
