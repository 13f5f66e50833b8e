"""SMTP submission against a real SMTP server (aiosmtpd): STARTTLS and AUTH, and every
failure mapped to the right bot.errors class."""

from __future__ import annotations

import dataclasses

import pytest

from bot.errors import PermanentSendError, TransientSendError
from bot.model import OutboundMessage
from channels.email.render import Identity, render
from channels.email.send import send_mail
from channels.email.texts import Texts
from tests.channels.email.conftest import make_config
from tests.channels.email.dovecot import Dovecot
from tests.channels.email.fake_smtp import FakeSmtp
from tests.services import free_port

CITIZEN = "sara.khan@example.com"


def mail_for(env: dict[str, str], to: str = CITIZEN) -> tuple[object, str]:
    message = OutboundMessage(channel="email", recipient_id=to, key="k:0", text="Hello")
    identity = Identity(env["TAWASUL_EMAIL_ADDRESS"], "Tawasul 940")
    return render(message, identity, Texts.load(), {}), to


async def test_sends_over_starttls_with_auth(email_env: dict[str, str], smtp: FakeSmtp) -> None:
    config = make_config(email_env)
    mail, to = mail_for(email_env)
    await send_mail(mail, config, to)  # type: ignore[arg-type]
    assert smtp.problems == [] and smtp.logins  # authenticated, after STARTTLS (checked)
    (delivered,) = smtp.delivered
    assert delivered.mail_from == email_env["TAWASUL_EMAIL_ADDRESS"]
    assert delivered.rcpt_tos == (CITIZEN,)
    assert delivered.message["Subject"] == "بلاغك لدى مركز 940"


async def test_the_bounce_address_is_the_envelope_sender(
    email_env: dict[str, str], smtp: FakeSmtp
) -> None:
    bounce = "bounces@tawasul.test"
    smtp.sender = bounce
    config = dataclasses.replace(make_config(email_env), bounce_address=bounce)
    mail, to = mail_for(email_env)
    await send_mail(mail, config, to)  # type: ignore[arg-type]
    assert smtp.delivered[0].mail_from == bounce
    assert smtp.delivered[0].message["From"].addresses[0].addr_spec == config.address


@pytest.mark.parametrize(
    "reply, error",
    [
        ("550 5.1.1 <sara.khan@example.com>: Recipient address rejected: User unknown",
         PermanentSendError),
        ("451 4.3.0 Temporary lookup failure, try again later", TransientSendError),
        ("452 4.2.2 Mailbox full", TransientSendError),
    ],
)  # fmt: skip
async def test_refused_recipients(
    reply: str, error: type[Exception], email_env: dict[str, str], smtp: FakeSmtp
) -> None:
    smtp.refuse[CITIZEN] = reply
    mail, to = mail_for(email_env)
    with pytest.raises(error):
        await send_mail(mail, make_config(email_env), to)  # type: ignore[arg-type]
    assert smtp.delivered == []


async def test_a_wrong_password_is_permanent(email_env: dict[str, str], smtp: FakeSmtp) -> None:
    config = dataclasses.replace(make_config(email_env), smtp_password="wrong")
    mail, to = mail_for(email_env)
    with pytest.raises(PermanentSendError, match="535"):
        await send_mail(mail, config, to)  # type: ignore[arg-type]
    assert smtp.delivered == []


async def test_a_sender_the_server_refuses_is_permanent(
    email_env: dict[str, str], smtp: FakeSmtp
) -> None:
    smtp.sender = "someone-else@tawasul.test"
    mail, to = mail_for(email_env)
    with pytest.raises(PermanentSendError, match="553"):
        await send_mail(mail, make_config(email_env), to)  # type: ignore[arg-type]


async def test_no_server_is_transient(email_env: dict[str, str]) -> None:
    config = dataclasses.replace(make_config(email_env), smtp_port=free_port())
    mail, to = mail_for(email_env)
    with pytest.raises(TransientSendError):
        await send_mail(mail, config, to)  # type: ignore[arg-type]


async def test_an_untrusted_certificate_is_refused(
    email_env: dict[str, str], smtp: FakeSmtp
) -> None:
    config = dataclasses.replace(make_config(email_env), ca_file=None)
    mail, to = mail_for(email_env)
    with pytest.raises(TransientSendError):
        await send_mail(mail, config, to)  # type: ignore[arg-type]
    assert smtp.delivered == [] and smtp.logins == []


async def test_no_downgrade_when_the_server_offers_no_starttls(
    email_env: dict[str, str], dovecot: Dovecot
) -> None:
    plain = FakeSmtp(
        dovecot.ca_file, dovecot.base / "key.pem", email_env["TAWASUL_EMAIL_ADDRESS"], "x",
        tls=False,
    )  # fmt: skip
    plain.start()
    try:
        config = dataclasses.replace(make_config(email_env), smtp_port=plain.port)
        mail, to = mail_for(email_env)
        with pytest.raises(PermanentSendError, match="STARTTLS"):
            await send_mail(mail, config, to)  # type: ignore[arg-type]
        assert plain.delivered == []
    finally:
        plain.stop()
