"""nlu_components.number_shapes: which kind of number a message holds (pure Python)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlu_components.number_shapes import NUMBER_SHAPES, number_shapes

MODULE = Path(__file__).resolve().parents[2] / "nlu_components" / "number_shapes.py"


def shapes(text: str) -> set[str]:
    return {name for name, on in zip(NUMBER_SHAPES, number_shapes(text), strict=True) if on}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("is 2304718 fixed or not", {"ticket"}),
        ("status of #8264031 please", {"ticket"}),
        ("وين وصل بلاغي ٧٣٩٠٢٨٤١", {"ticket"}),
        ("٥١٨٣٠٢٧٤", {"ticket", "digits_only"}),
        ("050 444 2187", {"phone", "digits_only"}),
        ("٠٥٠ ٤٤٤ ٢١٨٧", {"phone", "digits_only"}),
        ("+966 55 876 2210", {"phone", "digits_only"}),
        ("my number is 0559876543", {"phone"}),
        ("call me on 055-987-1234", {"phone"}),
        ("٤ بشكل عام", {"small_number"}),
        ("I'd give it a 3", {"small_number"}),
        ("4/5", {"small_number", "digits_only"}),
        ("٥ من ٥", {"small_number"}),
        ("street 7", set()),
        ("5th street", set()),
        ("3.5 km from the exit", set()),
        ("it started 12 days ago", set()),
        ("hello", set()),
        ("", set()),
    ],
)
def test_number_shapes(text: str, expected: set[str]) -> None:
    assert shapes(text) == expected


def test_a_phone_number_is_not_a_ticket_number() -> None:
    assert "ticket" not in shapes("0559876543")
    assert shapes("ticket 4829157 and my phone 0559876543") == {"ticket", "phone"}


@given(st.text(max_size=40))
def test_any_text_gives_one_flag_per_shape(text: str) -> None:
    flags = number_shapes(text)
    assert len(flags) == len(NUMBER_SHAPES)
    assert all(isinstance(flag, bool) for flag in flags)
    if not any(c.isdigit() for c in text):
        assert not any(flags)


def test_module_uses_only_the_standard_library_and_python_3_10() -> None:
    tree = ast.parse(MODULE.read_text(encoding="utf-8"), feature_version=(3, 10))
    imported = {
        (node.module or "").split(".")[0] if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "re", "nlu_components"}, imported
