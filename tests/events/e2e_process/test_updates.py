"""Issue 5, "Done when" (first and fourth points), per channel through the processes: a staff
status change in the ticket service produces the right message at the fake provider, in the
citizen's language, within the provider's rules; one change informs a WhatsApp reporter and an
e-mail follower of the same ticket."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.spots import random_pin

from .conftest import MakeCitizen
from .harness import E2E
from .story import (
    CREW_NOTE,
    close_fixed,
    closed_fixed,
    expect_update,
    file_as_bot,
    in_progress,
    start_work,
    wait_for_sent,
)


@dataclass(frozen=True)
class Profile:
    channel: str
    language: str
    writes_first: bool  # the citizen wrote (a greeting) before the report was filed


PROFILES = [
    # never wrote: outside the 24 h window, so only the approved template may reach them
    Profile("whatsapp", "ar", writes_first=False),
    Profile("messenger", "en", writes_first=True),  # no tag configured: inside the window
    Profile("x", "ar", writes_first=True),
    Profile("telegram", "en", writes_first=True),
    Profile("email", "ar", writes_first=True),  # the updates thread into their mail
    Profile("web", "en", writes_first=True),  # a conversation exists only once opened
]


@pytest.mark.parametrize("p", PROFILES, ids=lambda p: f"{p.channel}-{p.language}")
async def test_status_changes_reach_the_citizen_on_their_channel(
    p: Profile, e2e: E2E, citizens: MakeCitizen
) -> None:
    citizen = await citizens(p.channel, p.language)
    if p.writes_first:
        await citizen.open()
    number, joined = await file_as_bot(e2e, citizen)
    assert not joined

    mark = len(citizen.seen())
    note = CREW_NOTE[p.language]
    await start_work(e2e, number, note)
    await expect_update(citizen, mark, await in_progress(e2e, number, p.language, note), number)

    mark = len(citizen.seen())
    await close_fixed(e2e, number, p.language)
    await expect_update(citizen, mark, await closed_fixed(e2e, number, p.language), number)

    await wait_for_sent(e2e, number, [("ticket.closed", p.channel),
                                      ("ticket.status_changed", p.channel)])  # fmt: skip


@dataclass(frozen=True)
class Pair:
    reporter: Profile
    follower: Profile  # files the same pothole: joins the report as a follower


PAIRS = [
    # the reporter never wrote (a template); the follower never wrote (a thread of its own)
    Pair(Profile("whatsapp", "ar", writes_first=False), Profile("email", "ar", writes_first=False)),
    # the follower reads Arabic, the report is in English: every word in the follower's language
    Pair(Profile("whatsapp", "en", writes_first=True), Profile("email", "ar", writes_first=False)),
]


@pytest.mark.parametrize("pair", PAIRS, ids=["same-language", "follower-in-another-language"])
async def test_one_change_informs_a_whatsapp_reporter_and_an_email_follower(
    pair: Pair, e2e: E2E, citizens: MakeCitizen
) -> None:
    people = [await citizens(p.channel, p.language) for p in (pair.reporter, pair.follower)]
    for person, p in zip(people, (pair.reporter, pair.follower), strict=True):
        if p.writes_first:
            await person.open()
    pin = random_pin()
    number, joined = await file_as_bot(e2e, people[0], pin)
    assert not joined
    same, joined = await file_as_bot(e2e, people[1], pin)  # the same pothole: a follower
    assert joined and same == number

    marks = [len(person.seen()) for person in people]
    await start_work(e2e, number, None)  # no staff note: its words are in one language only

    for person, mark in zip(people, marks, strict=True):
        update = await in_progress(e2e, number, person.language, None)
        await expect_update(person, mark, update, number)
    await wait_for_sent(e2e, number, [("ticket.status_changed", "email"),
                                      ("ticket.status_changed", "whatsapp")])  # fmt: skip
