from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from ticket_service.numbers import (
    FOLLOWUP_DIGITS,
    TICKET_DIGITS,
    is_valid,
    new_followup_reference,
    new_ticket_number,
)


def test_ticket_numbers_are_digits_valid_and_not_sequential() -> None:
    numbers = [new_ticket_number() for _ in range(2000)]
    assert all(len(n) == TICKET_DIGITS and n.isdigit() and n[0] != "0" for n in numbers)
    assert all(is_valid(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    ordered = sorted(int(n) for n in numbers)
    # neighbours are far apart: counting up from your own number finds nobody else's
    gaps = [b - a for a, b in pairwise(ordered)]
    assert sorted(gaps)[len(gaps) // 2] > 10_000


def test_followup_references_cannot_be_mistaken_for_ticket_numbers() -> None:
    ref = new_followup_reference()
    assert len(ref) == FOLLOWUP_DIGITS != TICKET_DIGITS and is_valid(ref)


@given(st.integers(min_value=0, max_value=8), st.integers(min_value=1, max_value=9))
def test_a_single_mistyped_digit_is_caught(position: int, delta: int) -> None:
    number = new_ticket_number()
    wrong = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not is_valid(wrong)


def test_garbage_is_not_a_number() -> None:
    assert not is_valid("") and not is_valid("12a456789") and not is_valid("١٢٣٤٥٦٧٨٩")
