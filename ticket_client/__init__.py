"""Async client of the ticket service: the standard Open311 GeoReport v2 endpoints (any Open311
server) and Tawasul's ``/api/v1`` extensions.

The caller owns the ``aiohttp.ClientSession`` (one per application) and the configuration::

    config = ClientConfig(base_url="http://127.0.0.1:8090", api_key=settings.hub_key)
    tickets = TawasulClient(session, config)
    result = await tickets.create(kind="report", service_code="pothole", channel="whatsapp",
                                  lat=26.43, long=50.10, reporter=contact,
                                  idempotency_key=f"wa:{message_id}")
"""

from ticket_client.errors import (
    BadRequest,
    Conflict,
    ErrorDetail,
    Forbidden,
    InvalidResponse,
    NotFound,
    ServiceUnavailable,
    TicketClientError,
)
from ticket_client.http import ClientConfig, RetryPolicy
from ticket_client.models import (
    Attribute,
    AttributeValue,
    Contact,
    CreateResult,
    Followup,
    HistoryEntry,
    Identity,
    IdentityRef,
    KpiGroup,
    KpiMetrics,
    KpiReport,
    PublicRequest,
    Rating,
    RequestReceipt,
    RequestUpdate,
    Service,
    ServiceDefinition,
    SurveyResult,
    Ticket,
    TokenLookup,
)
from ticket_client.open311 import Open311Client
from ticket_client.tawasul import TawasulClient

__all__ = [
    "Attribute",
    "AttributeValue",
    "BadRequest",
    "ClientConfig",
    "Conflict",
    "Contact",
    "CreateResult",
    "ErrorDetail",
    "Followup",
    "Forbidden",
    "HistoryEntry",
    "Identity",
    "IdentityRef",
    "InvalidResponse",
    "KpiGroup",
    "KpiMetrics",
    "KpiReport",
    "NotFound",
    "Open311Client",
    "PublicRequest",
    "Rating",
    "RequestReceipt",
    "RequestUpdate",
    "RetryPolicy",
    "Service",
    "ServiceDefinition",
    "ServiceUnavailable",
    "SurveyResult",
    "TawasulClient",
    "Ticket",
    "TicketClientError",
    "TokenLookup",
]
