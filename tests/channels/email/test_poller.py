"""The IMAP loop against a real Dovecot: mails appended by IMAP are submitted once, moved or
flagged, the cursor is kept, restarts and UIDVALIDITY changes re-read nothing, failures are
retried, and only one poller works a mailbox."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable

import pytest

from channels.email.parse import message_key
from channels.email.state import ConversationStore, MailboxCursor
from tests.channels.email.conftest import (
    Mailbox,
    StandInHub,
    Start,
    make_config,
    payload,
    wait_until,
)
from tests.channels.email.dovecot import Dovecot

GMAIL_EN = "CAHx8q=Z7vE0pQ1m3kq4w@mail.example.com"
PHOTO_AR = "4e1f2a3b-5c6d-7e8f-9a0b-1c2d3e4f5a6b@example.org"
VACATION = "CAHx8q=vacation.0001@mail.example.com"
OUTLOOK_EN = "DB9PR08MB6588C0A1F2E3@DB9PR08MB6588.eurprd08.prod.outlook.example"
HTML_AR = "webmail.1736268300.88231@example.com"


async def ids(hub: StandInHub) -> list[str]:
    return [m.provider_message_id for m in await hub.submitted()]


async def test_mails_are_submitted_once_moved_and_the_cursor_survives_a_restart(
    email_env: dict[str, str], mailbox: Mailbox, hub: StandInHub, start_channel: Start
) -> None:
    for name in ("gmail_reply_en.eml", "photo_attachment_ar.eml", "vacation_autoreply.eml"):
        await mailbox.append(payload(name))
    config = make_config(email_env)
    running = await start_channel(config)

    await wait_until(lambda: _count(hub, 3), what="three submissions")
    assert await ids(hub) == [GMAIL_EN, PHOTO_AR, VACATION]  # in UID order, once each
    submitted = await hub.submitted()
    assert submitted[1].attachments[0].mime_type == "image/png"
    assert submitted[2].no_reply_reason == "auto-submitted:auto-replied"
    await wait_until(_empty(mailbox), what="INBOX emptied")
    processed = await mailbox.contents("Processed")
    assert len(processed) == 3
    assert all("\\Seen" in flags and "$TawasulProcessed" in flags for _, flags, _ in processed)
    cursor = MailboxCursor(hub.redis, config.redis_prefix, config.account_key)
    await wait_until(lambda: _cursor_at(cursor, 3), what="the cursor at UID 3")
    assert (await cursor.load())[0] is not None

    # New mail while running arrives through IDLE (the catch-up poll is 60 s away).
    await mailbox.append(payload("outlook_reply_en.eml"))
    await wait_until(lambda: _count(hub, 4), seconds=5, what="IDLE to announce the mail")

    # A restart reads nothing again, then takes new mail.
    await running.stop()
    running = await start_channel(config)
    assert running.channel.poller is not None
    poller = running.channel.poller
    await wait_until(lambda: poller.rounds >= 1, what="a first round after the restart")
    assert await hub.count() == 4
    await mailbox.append(payload("html_only_ar.eml"))
    await wait_until(lambda: _count(hub, 5), what="the mail after the restart")
    assert await ids(hub) == [GMAIL_EN, PHOTO_AR, VACATION, OUTLOOK_EN, HTML_AR]
    await wait_until(lambda: _cursor_at(cursor, 5), what="the cursor at UID 5")


async def test_a_mail_stays_unseen_in_the_inbox_until_the_hub_took_it(
    email_env: dict[str, str], mailbox: Mailbox, hub: StandInHub, start_channel: Start
) -> None:
    hub.fail_next = 1  # Redis "down" for the first submit
    await mailbox.append(payload("gmail_reply_ar.eml"))
    await start_channel(make_config(email_env))

    await wait_until(lambda: hub.failures == 1, what="the failed submit")
    inbox = await mailbox.contents()
    assert len(inbox) == 1 and "\\Seen" not in inbox[0][1]  # BODY.PEEK: not marked read
    await wait_until(lambda: _count(hub, 1), what="the retry after the backoff")
    await wait_until(_empty(mailbox), what="the mail moved once submitted")
    assert await ids(hub) == ["CAJq3x_ar0Gm1@mail.example.net"]


async def test_uidvalidity_change_rescans_and_dedups_by_message_id(
    email_env: dict[str, str],
    mailbox: Mailbox,
    hub: StandInHub,
    start_channel: Start,
    dovecot: Dovecot,
) -> None:
    env = {**email_env, "TAWASUL_EMAIL_PROCESSED_MAILBOX": ""}  # flag, don't move
    config = make_config(env)
    no_id = payload("no_message_id_forged_auth.eml")
    await mailbox.append(payload("gmail_reply_en.eml"))
    await mailbox.append(no_id)
    running = await start_channel(config)
    await wait_until(lambda: _count(hub, 2), what="the first two mails")
    await wait_until(_all_flagged(mailbox, 2), what="both flagged")
    await running.stop()

    cursor = MailboxCursor(hub.redis, config.redis_prefix, config.account_key)
    old_validity, _ = await cursor.load()
    assert old_validity is not None
    new_validity = old_validity + 1000
    dovecot.doveadm(
        "mailbox", "update", "-u", mailbox.user, "--uid-validity", str(new_validity), "INBOX"
    )
    await mailbox.append(payload("outlook_reply_ar.eml"))
    await start_channel(config)

    await wait_until(lambda: _count(hub, 3), what="the new mail after the resync")
    await asyncio.sleep(0.5)  # room for a wrong resubmission to show up
    submitted = await hub.submitted()
    assert [m.provider_message_id for m in submitted] == [
        GMAIL_EN,
        f"{old_validity}:2",  # no Message-ID: uidvalidity:uid, deduped by SHA-256 on resync
        "AM0PR10MB2962A1B2C3D4E5@AM0PR10MB2962.eurprd10.prod.outlook.example",
    ]
    await wait_until(lambda: _cursor_at(cursor, 3), what="the cursor at UID 3")
    assert (await cursor.load())[0] == new_validity
    assert await cursor.seen(message_key(no_id))
    await wait_until(_all_flagged(mailbox, 3), what="all three flagged in place")


async def test_auto_replies_bounces_and_list_mail_are_recorded_not_threaded(
    email_env: dict[str, str], mailbox: Mailbox, hub: StandInHub, start_channel: Start
) -> None:
    names = ("bounce.eml", "list_mail.eml", "out_of_office_ar.eml", "x_autoreply.eml")
    for name in names:
        await mailbox.append(payload(name))
    config = make_config(email_env)
    await start_channel(config)

    await wait_until(lambda: _count(hub, 4), what="four recorded mails")
    reasons = {m.user_id: m.no_reply_reason for m in await hub.submitted()}
    assert reasons == {
        "mailer-daemon@mx.tawasul.test": "bounce",
        "news@lists.example.com": "precedence:list",
        "k.aldosari@example.org": "auto-submitted:auto-generated",
        "support@example.net": "autoresponder",
    }
    # None of them becomes the thread a later reply would answer.
    store = ConversationStore(hub.redis, config.redis_prefix)
    for user in reasons:
        assert await store.thread(f"email:{user}") == {}


async def test_without_idle_the_periodic_poll_finds_mail(
    email_env: dict[str, str], mailbox: Mailbox, hub: StandInHub, start_channel: Start
) -> None:
    env = {**email_env, "TAWASUL_EMAIL_IDLE": "off", "TAWASUL_EMAIL_POLL_SECONDS": "0.3"}
    running = await start_channel(make_config(env))
    assert running.channel.poller is not None
    poller = running.channel.poller
    await wait_until(lambda: poller.rounds >= 2, what="two poll rounds")
    await mailbox.append(payload("html_only_ar.eml"))
    await wait_until(lambda: _count(hub, 1), seconds=5, what="the polled mail")


async def test_reconnects_with_backoff_after_the_server_restarts(
    email_env: dict[str, str],
    mailbox: Mailbox,
    hub: StandInHub,
    start_channel: Start,
    dovecot: Dovecot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="channels.email.poller")
    await start_channel(make_config(email_env))
    await mailbox.append(payload("gmail_reply_en.eml"))
    await wait_until(lambda: _count(hub, 1), what="the first mail")

    await asyncio.to_thread(dovecot.stop)
    await wait_until(
        lambda: any("retrying" in r.getMessage() for r in caplog.records),
        what="the poller to notice",
    )
    await asyncio.to_thread(dovecot.start)
    await mailbox.append(payload("outlook_reply_en.eml"))
    await wait_until(lambda: _count(hub, 2), seconds=20, what="the mail after the restart")
    assert await ids(hub) == [GMAIL_EN, OUTLOOK_EN]


async def test_two_pollers_on_one_mailbox_submit_each_mail_once(
    email_env: dict[str, str], mailbox: Mailbox, hub: StandInHub, start_channel: Start
) -> None:
    config = make_config(email_env)
    first = await start_channel(config)
    second = await start_channel(config)
    names = ("gmail_reply_en.eml", "gmail_reply_ar.eml", "outlook_reply_en.eml")
    for name in names:
        await mailbox.append(payload(name))
    await wait_until(lambda: _count(hub, 3), what="three mails")
    await asyncio.sleep(0.5)
    assert await hub.count() == 3

    # The holder stops: the other takes the mailbox over.
    pollers = [first.channel.poller, second.channel.poller]
    assert all(p is not None for p in pollers)
    leader, follower = (first, second) if pollers[0].rounds else (second, first)  # type: ignore[union-attr]
    await leader.stop()
    await mailbox.append(payload("html_only_ar.eml"))
    await wait_until(lambda: _count(hub, 4), seconds=10, what="the follower to take over")
    follower_poller = follower.channel.poller
    assert follower_poller is not None
    await wait_until(lambda: follower_poller.rounds >= 1, what="the follower's round")
    assert len(set(await ids(hub))) == 4


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_logs_in_over_tls_and_starttls(
    security: str,
    email_env: dict[str, str],
    mailbox: Mailbox,
    hub: StandInHub,
    start_channel: Start,
    dovecot: Dovecot,
) -> None:
    env = {**email_env, **dovecot.env(mailbox.user, security)}
    await mailbox.append(payload("gmail_reply_en.eml"))
    await start_channel(make_config(env))
    await wait_until(lambda: _count(hub, 1), what=f"the mail over {security}")
    logins = [line for line in dovecot.log_tail(400).splitlines() if f"<{mailbox.user}>" in line]
    assert any("Login:" in line and "TLS" in line for line in logins), logins


async def test_an_untrusted_certificate_is_never_accepted(
    email_env: dict[str, str],
    mailbox: Mailbox,
    hub: StandInHub,
    start_channel: Start,
    dovecot: Dovecot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="channels.email.poller")
    env = {**email_env, **dovecot.env(mailbox.user, "starttls")}
    config = dataclasses.replace(make_config(env), ca_file=None)  # system CAs only
    await mailbox.append(payload("gmail_reply_en.eml"))
    await start_channel(config)
    await wait_until(
        lambda: any("CERTIFICATE_VERIFY_FAILED" in r.getMessage() for r in caplog.records),
        what="the certificate to be refused",
    )
    assert await hub.count() == 0
    logins = [line for line in dovecot.log_tail(400).splitlines() if f"<{mailbox.user}>" in line]
    # The test's own APPEND logs in over plain loopback ("secured"); the channel never did.
    assert not any("Login:" in line and "TLS" in line for line in logins), logins


async def _cursor_at(cursor: MailboxCursor, uid: int) -> bool:
    return (await cursor.load())[1] == uid


async def _count(hub: StandInHub, n: int) -> bool:
    return await hub.count() >= n


def _empty(mailbox: Mailbox) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await mailbox.contents() == []

    return check


def _all_flagged(mailbox: Mailbox, n: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        inbox = await mailbox.contents()
        return len(inbox) == n and all("$TawasulProcessed" in f for _, f, _ in inbox)

    return check
