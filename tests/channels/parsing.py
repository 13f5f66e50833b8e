"""Helpers the channels' parse tests share: the one message of a recorded body, and JSON
garbage built around a parser's own keys (so hypothesis reaches past the first check)."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from bot.model import InboundEvent, InboundMessage


def only_message(events: Sequence[InboundEvent]) -> InboundMessage:
    """The single event of ``events``, which must be a message."""
    assert len(events) == 1
    assert isinstance(events[0], InboundMessage)
    return events[0]


def json_garbage(keys: Sequence[str]) -> st.SearchStrategy[object]:
    """Any JSON value whose objects use ``keys`` (at most 30 leaves)."""
    return st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.sampled_from(list(keys)), children, max_size=6)
        ),
        max_leaves=30,
    )
