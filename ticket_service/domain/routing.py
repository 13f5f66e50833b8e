"""Which municipality and department a new request goes to."""

from __future__ import annotations

import re

from ticket_service.config import Settings
from ticket_service.geo import point_in_polygon

_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "ـ": None})
_DIACRITICS = re.compile("[\u064b-\u0652\u0670]")


def fold(text: str) -> str:
    """Case-, diacritic- and alef-insensitive form for matching place names."""
    return _DIACRITICS.sub("", text).translate(_ARABIC_FOLD).casefold()


def municipality_for(
    settings: Settings, lat: float | None, lon: float | None, address: str | None
) -> str:
    """The municipality whose area contains the point, else one named in the address, else the
    default."""
    if lat is not None and lon is not None:
        for muni in settings.municipalities:
            if point_in_polygon(lon, lat, muni.rings):
                return muni.code
    if address:
        folded = f" {fold(address)} "
        best: tuple[int, str] | None = None
        for muni in settings.municipalities:
            for alias in muni.aliases:
                a = fold(alias)
                # whole-word match; Arabic place names often carry a prefix (بالدمام، في الخبر)
                pattern = rf"(?<![\w])(?:ب|ل|و|في ?)?{re.escape(a)}(?![\w])"
                if re.search(pattern, folded) and (best is None or len(a) > best[0]):
                    best = (len(a), muni.code)
        if best:
            return best[1]
    return settings.default_municipality


KIND_DEPARTMENT = {
    "complaint": "beneficiary_satisfaction",
    "inquiry": "customer_care",
    "callback": "customer_care",
}


def department_for(settings: Settings, kind: str, service_code: str) -> str:
    if kind in KIND_DEPARTMENT:
        return KIND_DEPARTMENT[kind]
    service = settings.service(service_code)
    return service.department if service else "customer_care"
