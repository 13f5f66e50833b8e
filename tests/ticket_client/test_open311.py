"""Open311Client against the real service's standard GeoReport v2 endpoints, in JSON and XML."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.ticket_client.conftest import config_for, url_of
from tests.ticket_service.conftest import START
from ticket_client import (
    BadRequest,
    Contact,
    Forbidden,
    NotFound,
    Open311Client,
    TawasulClient,
)
from ticket_client.open311 import Format
from ticket_service.config import Settings

SERVICE_CODES = [
    "pothole",
    "streetlight",
    "waste",
    "water_leak",
    "sewage",
    "stray_animals",
    "building_violation",
    "trees_parks",
    "sidewalk",
    "other",
]
DAMMAM = (26.4126, 50.0645)
KHOBAR = (26.2940, 50.2170)
QATIF = (26.5560, 50.0100)


@pytest.fixture(params=["json", "xml"])
def fmt(request: pytest.FixtureRequest) -> Format:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def o311(http: aiohttp.ClientSession, service: TestServer, fmt: Format) -> Open311Client:
    return Open311Client(http, config_for(url_of(service), "hub"), fmt=fmt)


async def test_service_list_in_english_and_arabic(o311: Open311Client) -> None:
    english = await o311.services("en")
    arabic = await o311.services("ar")

    assert [s.service_code for s in english] == SERVICE_CODES
    assert [s.service_code for s in arabic] == SERVICE_CODES
    pothole_en, pothole_ar = english[0], arabic[0]
    assert pothole_en.service_name == "Potholes and road damage"
    assert pothole_ar.service_name == "حفر وتلف الطرق"
    assert pothole_en.metadata is True and pothole_en.type == "realtime"
    waste = english[2]
    assert "garbage" in waste.keywords and waste.group == "Cleanliness"
    assert "زبالة" in arabic[2].keywords


async def test_service_definition_lists_the_questions_in_order(o311: Open311Client) -> None:
    definition = await o311.service_definition("waste", lang="en")
    assert definition.service_code == "waste"
    assert [a.code for a in definition.attributes] == ["waste_type", "container_issue"]
    waste_type = definition.attributes[0]
    assert waste_type.datatype == "multivaluelist" and waste_type.variable is True
    assert waste_type.required is False and waste_type.order == 1
    assert waste_type.description == "What kind of waste is it?"
    assert [v.key for v in waste_type.values] == [
        "household",
        "construction_debris",
        "bulky_items",
        "green_waste",
    ]
    assert waste_type.values[0].name == "Household waste"
    arabic = await o311.service_definition("waste", lang="ar")
    assert arabic.attributes[0].values[0].name == "نفايات منزلية"


async def test_create_by_form_then_fetch_by_id(o311: Open311Client, agent: TawasulClient) -> None:
    receipt = await o311.create_request(
        "waste",
        lat=DAMMAM[0],
        long=DAMMAM[1],
        description="حاوية ممتلئة منذ ثلاثة أيام\nوالروائح قوية",
        attributes={
            "waste_type": ["household", "construction_debris"],
            "container_issue": "overflowing",
        },
        first_name="Ahmed",
        last_name="Al-Qahtani",
        phone="+966500000777",
        account_id="citizen-77",
        lang="en",
    )
    number = receipt.service_request_id
    assert number is not None and number.isdigit() and len(number) >= 6
    assert receipt.token is None and receipt.service_notice is None

    fetched = await o311.request(number, lang="en")
    assert fetched.service_request_id == number
    assert fetched.status == "open" and fetched.service_code == "waste"
    assert fetched.service_name == "Waste collection and cleanliness"
    assert fetched.description == "حاوية ممتلئة منذ ثلاثة أيام\nوالروائح قوية"
    assert (fetched.lat, fetched.long) == DAMMAM
    assert fetched.agency_responsible == "Dammam Municipality"
    assert fetched.requested_datetime == START
    assert fetched.expected_datetime == START + timedelta(hours=24)  # the waste SLA

    staff = await agent.ticket(number)
    assert staff.attributes == {
        "waste_type": ["household", "construction_debris"],
        "container_issue": "overflowing",
    }
    assert staff.channel == "open311"
    assert staff.reporter is not None and staff.reporter.phone == "+966500000777"


async def test_a_second_report_at_the_same_place_gets_the_open_number_and_a_notice(
    o311: Open311Client,
) -> None:
    first = await o311.create_request("pothole", lat=DAMMAM[0], long=DAMMAM[1], phone="+966511")
    again = await o311.create_request(
        "pothole", lat=DAMMAM[0] + 0.0001, long=DAMMAM[1], phone="+966522", lang="en"
    )
    assert again.service_request_id == first.service_request_id
    assert again.service_notice is not None
    assert str(first.service_request_id) in again.service_notice


async def test_listing_filters_and_pages(o311: Open311Client, agent: TawasulClient) -> None:
    made = {}
    for code, (lat, lon) in (("pothole", DAMMAM), ("streetlight", KHOBAR), ("waste", QATIF)):
        receipt = await o311.create_request(code, lat=lat, long=lon, description=code)
        assert receipt.service_request_id is not None
        made[code] = receipt.service_request_id
    await agent.change_status(made["waste"], "closed", resolution="fixed", note="collected")

    everything = await o311.requests()
    assert {r.service_request_id for r in everything} == set(made.values())
    two = await o311.requests(ids=[made["pothole"], made["waste"]], service_codes=["sewage"])
    assert {r.service_request_id for r in two} == {made["pothole"], made["waste"]}  # ids win
    potholes = await o311.requests(service_codes=["pothole", "sewage"])
    assert [r.service_request_id for r in potholes] == [made["pothole"]]
    closed = await o311.requests(statuses=["closed"])
    assert [(r.service_request_id, r.status, r.status_notes) for r in closed] == [
        (made["waste"], "closed", "collected"),
    ]
    later = await o311.requests(start=START + timedelta(hours=1), end=START + timedelta(days=2))
    assert later == []
    page1 = await o311.requests(page=1, page_size=2)
    page2 = await o311.requests(page=2, page_size=2)
    assert len(page1) == 2 and len(page2) == 1
    assert {r.service_request_id for r in page1 + page2} == set(made.values())


async def test_token_lookup_gives_the_request_id(o311: Open311Client, hub: TawasulClient) -> None:
    created = await hub.create(
        service_code="sidewalk",
        lat=DAMMAM[0],
        long=DAMMAM[1],
        channel="telegram",
        reporter=Contact("telegram", "5550001"),
    )
    token = created.ticket.token
    assert token is not None
    found = await o311.token(token)
    assert (found.token, found.service_request_id) == (token, created.ticket.service_request_id)
    with pytest.raises(NotFound):
        await o311.token("00000000-0000-0000-0000-000000000000")


async def test_status_changes_appear_in_the_updates_feed(
    o311: Open311Client, agent: TawasulClient
) -> None:
    receipt = await o311.create_request("streetlight", lat=KHOBAR[0], long=KHOBAR[1])
    number = receipt.service_request_id
    assert number is not None
    await agent.change_status(number, "in_progress", note="crew dispatched")
    await agent.change_status(number, "closed", resolution="fixed", note="lamp replaced")

    feed = await o311.updates(START - timedelta(hours=1), START + timedelta(hours=1))
    mine = [u for u in feed if u.service_request_id == number]
    assert [(u.status, u.description) for u in mine if u.description] == [
        ("in_progress", "crew dispatched"),
        ("fixed", "lamp replaced"),
    ]
    assert all(u.updated_datetime == START for u in mine)


async def test_complaints_are_not_public(o311: Open311Client, hub: TawasulClient) -> None:
    complaint = await hub.create(
        kind="complaint",
        description="the employee was rude",
        channel="whatsapp",
        reporter=Contact("whatsapp", "966500000009"),
    )
    with pytest.raises(NotFound):
        await o311.request(complaint.ticket.service_request_id)
    assert await o311.requests(ids=[complaint.ticket.service_request_id]) == []


async def test_open311_errors_are_typed(
    o311: Open311Client, http: aiohttp.ClientSession, service: TestServer, fmt: Format
) -> None:
    with pytest.raises(NotFound) as unknown:
        await o311.create_request("no_such_service", lat=DAMMAM[0], long=DAMMAM[1])
    assert unknown.value.status == 404 and unknown.value.errors[0].code == 404
    with pytest.raises(BadRequest) as bad:
        await o311.create_request("pothole", lat=91.0, long=DAMMAM[1], description="x" * 4001)
    assert {e.field for e in bad.value.errors} == {"lat", "description"}
    with pytest.raises(BadRequest) as nowhere:
        await o311.create_request("pothole", description="somewhere")
    assert [e.field for e in nowhere.value.errors] == ["location"]
    with pytest.raises(NotFound):
        await o311.request("123456789")

    keyless = Open311Client(http, config_for(url_of(service), None), fmt=fmt)
    with pytest.raises(Forbidden) as forbidden:
        await keyless.create_request("pothole", lat=DAMMAM[0], long=DAMMAM[1])
    assert forbidden.value.descriptions == ("api_key required",)


async def test_jurisdiction_id_is_sent_with_every_call(
    http: aiohttp.ClientSession, service: TestServer, settings: Settings
) -> None:
    ours = Open311Client(
        http, config_for(url_of(service), "hub", jurisdiction_id=settings.jurisdiction_id)
    )
    assert len(await ours.services()) == len(SERVICE_CODES)
    receipt = await ours.create_request("pothole", lat=DAMMAM[0], long=DAMMAM[1])
    assert receipt.service_request_id is not None

    elsewhere = Open311Client(http, config_for(url_of(service), "hub", jurisdiction_id="sf.gov"))
    with pytest.raises(NotFound):
        await elsewhere.services()
