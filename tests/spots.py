"""Report locations for tests. The ticket service joins a new report to an open one of the same
service within 50 m, so two tests' reports must never land that close: each call here gives a
point of its own on a grid ~100 m apart inside Dammam's routing area (26.40–26.48 N,
50.05–50.13 E), never the same twice in a test session."""

from __future__ import annotations

import itertools

ORIGIN = (26.40, 50.05)
#: Degrees between grid points: ≈ 111 m north–south, ≈ 100 m east–west at 26° N.
SPACING = 0.001
SIDE = 80  # points per row and rows: 6,400 reports per session
_points = itertools.count()


def distinct_spot() -> tuple[float, float]:
    """(lat, long) no other call of this session returns or comes within 50 m of."""
    n = next(_points) % (SIDE * SIDE)
    row, column = divmod(n, SIDE)
    return round(ORIGIN[0] + SPACING * row, 6), round(ORIGIN[1] + SPACING * column, 6)


def random_pin() -> dict[str, float]:
    """:func:`distinct_spot` as a shared map pin (``{"lat": …, "long": …}``)."""
    lat, long = distinct_spot()
    return {"lat": lat, "long": long}
