"""Routing on create: the area containing the point, else a name in the address, else default."""

from __future__ import annotations

import pytest

from ticket_service.config import Settings
from ticket_service.domain.routing import department_for, municipality_for

LANDMARKS = [
    ("King Fahd Park, Dammam", 26.4126, 50.0645, "dammam"),
    ("Al Khobar Corniche", 26.2940, 50.2170, "khobar"),
    ("KFUPM, Dhahran", 26.3070, 50.1450, "dhahran"),
    ("Qatif centre", 26.5560, 50.0100, "qatif"),
    ("Jubail", 27.0100, 49.6500, "jubail"),
    ("Hofuf", 25.3800, 49.5870, "al_ahsa"),
    ("Mubarraz", 25.4100, 49.5800, "al_ahsa"),
    ("Khafji", 28.4200, 48.4900, "khafji"),
    ("Hafr Al-Batin", 28.4340, 45.9700, "hafr_al_batin"),
    ("Ras Tanura", 26.6430, 50.1590, "ras_tanura"),
    ("Abqaiq", 25.9350, 49.6680, "abqaiq"),
    ("Nairyah", 27.4700, 48.4880, "nairyah"),
    ("Qaryat Al-Ulya", 27.5430, 47.6950, "qaryat_al_ulya"),
    ("Saihat", 26.4830, 50.0430, "qatif"),
    ("Al Rakah, Khobar", 26.3550, 50.2000, "khobar"),
    ("Ithra, Dhahran", 26.3350, 50.1200, "dhahran"),
]


@pytest.mark.parametrize(("place", "lat", "lon", "expected"), LANDMARKS)
def test_point_goes_to_the_municipality_whose_area_contains_it(
    settings: Settings, place: str, lat: float, lon: float, expected: str
) -> None:
    assert municipality_for(settings, lat, lon, None) == expected, place


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("حي الشاطئ بالخبر", "khobar"),
        ("شارع الملك سعود، الدمام", "dammam"),
        ("القطيف - حي الناصرة", "qatif"),
        ("near Jubail port", "jubail"),
        ("Hofuf, Al-Ahsa", "al_ahsa"),
        ("الأحساء، الهفوف", "al_ahsa"),
    ],
)
def test_without_a_point_a_municipality_named_in_the_address_wins(
    settings: Settings, address: str, expected: str
) -> None:
    assert municipality_for(settings, None, None, address) == expected


def test_a_word_that_merely_contains_a_name_does_not_route(settings: Settings) -> None:
    # "الخبرة" (experience) contains "الخبر" but is not Khobar
    assert (
        municipality_for(settings, None, None, "لدي الخبرة في هذا") == settings.default_municipality
    )


def test_a_point_outside_every_area_falls_back_to_the_address_then_the_default(
    settings: Settings,
) -> None:
    riyadh = (24.7136, 46.6753)
    assert municipality_for(settings, *riyadh, "Qatif") == "qatif"
    assert municipality_for(settings, *riyadh, None) == settings.default_municipality == "dammam"


def test_department_per_service_and_kind(settings: Settings) -> None:
    assert (
        department_for(settings, "report", "streetlight")
        == settings.services["streetlight"].department
    )
    assert department_for(settings, "report", "sewage") == settings.services["sewage"].department
    assert department_for(settings, "complaint", "other") == "beneficiary_satisfaction"
    assert department_for(settings, "callback", "other") == "customer_care"
