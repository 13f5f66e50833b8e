"""Issue 5, "Done when" (first point, the survey half), per channel through the processes:
closure produces the survey in the citizen's language; free-text answers in Arabic and English
are stored with the ticket service and move the satisfaction KPI by exactly the expected
amount; "still not fixed" reopens the ticket instead of rating it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .conftest import MakeCitizen
from .harness import E2E
from .story import (
    SURVEY_FORM,
    closure_then_survey,
    file_as_bot,
    satisfaction,
    stored_survey,
    survey_asks,
)


@dataclass(frozen=True)
class Answers:
    channel: str
    language: str
    writes_first: bool
    said: tuple[str, str, str]  # how good, how fast, a comment (or none)
    quality: int
    speed: int
    comment: str | None

    @property
    def satisfied(self) -> bool:
        return (self.quality + self.speed) / 2 >= 4


ANSWERS = [
    # outside the window: the survey template, tapped
    Answers("whatsapp", "ar", False, ("ممتاز", "٤", "لا"), 5, 4, None),
    Answers("messenger", "en", True, ("very good", "2", "no"), 4, 2, None),
    # X and e-mail number the options of their text menus: words here (the digits below)
    Answers("x", "ar", True, ("ممتاز", "سريع جدا", "شكرا على سرعة الاستجابة"), 5, 5,
            "شكرا على سرعة الاستجابة"),
    Answers("telegram", "en", True, ("excellent", "5", "no"), 5, 5, None),
    Answers("email", "ar", True, ("جيد", "بطيء", "لا"), 3, 2, None),
    Answers("web", "en", True, ("4", "3", "The crew was polite, thanks"), 4, 3,
            "The crew was polite, thanks"),
]  # fmt: skip


async def rate_the_closure(a: Answers, e2e: E2E, citizens: MakeCitizen) -> None:
    """File, close, answer the survey as ``a`` says; the scores and the comment are stored and
    the channel's KPIs move by exactly one survey."""
    citizen = await citizens(a.channel, a.language)
    if a.writes_first:
        await citizen.open()
    number, _ = await file_as_bot(e2e, citizen)
    before = await satisfaction(e2e, a.channel)

    await closure_then_survey(e2e, citizen, number)
    for slot, said in zip(("survey_quality", "survey_speed", "survey_comment"), a.said,
                          strict=True):  # fmt: skip
        await survey_asks(citizen, slot)
        replies = await citizen.say(said)
        assert replies and all(citizen.in_language(r) for r in replies), citizen.failure(said)
    loop, _, _ = await citizen.form()
    assert loop != SURVEY_FORM, citizen.failure("the survey is still asking")

    history = await e2e.client("agent").history(number)
    surveys = [(h.data.get("quality"), h.data.get("speed")) for h in history if h.kind == "survey"]
    assert surveys == [(a.quality, a.speed)], citizen.failure(f"stored: {surveys}")
    assert stored_survey(e2e.tickets.db_path, number) == {
        "quality": a.quality, "speed": a.speed, "comment": a.comment}  # fmt: skip
    after = await satisfaction(e2e, a.channel)
    assert after.responses == before.responses + 1
    assert after.rate == pytest.approx(before.after(a.satisfied).rate)


@pytest.mark.parametrize("a", ANSWERS, ids=lambda a: f"{a.channel}-{a.language}")
async def test_closure_survey_answers_are_stored_and_move_the_kpis(
    a: Answers, e2e: E2E, citizens: MakeCitizen
) -> None:
    await rate_the_closure(a, e2e, citizens)


# A typed number is the score the question asks for ("choose 1 to 5, 5 excellent"), also
# where the channel numbers the options of its text menus (X DMs, e-mail): the rating options
# are listed 5 … 1, so option 5 is "1 poor".
DIGITS = [
    Answers("x", "ar", True, ("٥", "سريع", "لا"), 5, 4, None),
    Answers("email", "en", True, ("5", "slow", "no"), 5, 2, None),
]


@pytest.mark.parametrize("a", DIGITS, ids=lambda a: f"{a.channel}-{a.language}")
async def test_a_typed_number_is_the_score_not_the_option_number(
    a: Answers, e2e: E2E, citizens: MakeCitizen
) -> None:
    await rate_the_closure(a, e2e, citizens)


@dataclass(frozen=True)
class NotFixed:
    channel: str
    language: str
    said: str


@pytest.mark.parametrize(
    "n",
    [NotFixed("x", "ar", "المشكلة ما انحلت"), NotFixed("telegram", "en", "still not fixed")],
    ids=lambda n: f"{n.channel}-{n.language}",
)
async def test_still_not_fixed_reopens_the_ticket(
    n: NotFixed, e2e: E2E, citizens: MakeCitizen
) -> None:
    citizen = await citizens(n.channel, n.language)
    await citizen.open()
    number, _ = await file_as_bot(e2e, citizen)
    before = await satisfaction(e2e, n.channel)
    await closure_then_survey(e2e, citizen, number)

    told = await citizen.say(n.said)

    ticket = await e2e.client("agent").ticket(number)
    assert ticket.status == "open", citizen.failure(f"status {ticket.status}")
    reopened = [h for h in ticket.history if h.kind == "reopen"]
    assert len(reopened) == 1 and reopened[0].actor == n.channel, ticket.history
    assert any(number in r.text and citizen.in_language(r) for r in told), citizen.failure(
        "not told that the report was reopened"
    )
    assert stored_survey(e2e.tickets.db_path, number) is None
    assert (await satisfaction(e2e, n.channel)) == before
    loop, _, _ = await citizen.form()
    assert loop != SURVEY_FORM, citizen.failure("the survey goes on after the reopen")
