"""A map pin in an e-mail: the first ``geo:`` URI or map link with coordinates in the text.

Understood: ``geo:24.71,46.67`` (RFC 5870), Google Maps ``…/@24.71,46.67,17z``,
``?q=24.71,46.67`` / ``query=`` / ``ll=`` (Google, Apple Maps), OpenStreetMap
``mlat=24.71&mlon=46.67`` and ``#map=17/24.71/46.67``. Short links (maps.app.goo.gl) carry no
coordinates and are left to the text.
"""

from __future__ import annotations

import re

from bot.model import Location

__all__ = ["find_location"]

_NUM = r"(-?\d{1,3}(?:\.\d+)?)"
_PATTERNS = (
    re.compile(rf"\bgeo:{_NUM},{_NUM}", re.IGNORECASE),
    re.compile(rf"https?://\S*?/@{_NUM},{_NUM}", re.IGNORECASE),
    re.compile(rf"https?://\S*?[?&](?:q|query|ll|sll|daddr)={_NUM}(?:,|%2C)\+?{_NUM}", re.I),
    re.compile(rf"https?://\S*?[?&]mlat={_NUM}&mlon={_NUM}", re.IGNORECASE),
    re.compile(rf"https?://\S*?#map=\d{{1,2}}/{_NUM}/{_NUM}", re.IGNORECASE),
)


def find_location(text: str) -> Location | None:
    """The first valid coordinates found (module doc), else None."""
    best: tuple[int, Location] | None = None
    for pattern in _PATTERNS:
        for found in pattern.finditer(text):
            lat, long = float(found.group(1)), float(found.group(2))
            if -90 <= lat <= 90 and -180 <= long <= 180 and (lat, long) != (0.0, 0.0):
                if best is None or found.start() < best[0]:
                    best = (found.start(), Location(lat=lat, long=long))
                break
    return best[1] if best else None
