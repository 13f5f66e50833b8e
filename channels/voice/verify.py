"""``X-Twilio-Signature`` (protocols.md §5.2): HMAC over the full URL Twilio requested plus
the form parameters, sorted by name, each name followed by its value(s), no separators.

Legacy signatures use HMAC-SHA1 keyed with the account's Auth Token. A request carrying
``X-Twilio-Webhooks-Signature-Settings: key=…,algorithm=HMAC_SHA256`` was signed with a
Webhooks SharedKey instead: it passes only when that key's secret is configured. Like
``twilio.request_validator.RequestValidator``, the URL is tried with and without the
scheme's default port (Twilio is not consistent about it); unlike it, the comparison is
:func:`hmac.compare_digest` and a missing header, token or unsupported algorithm fails.

:func:`sign` is the other side: tests and fake providers use it to sign as Twilio does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import parse_qsl, urlsplit

from bot.errors import MalformedPayload, SignatureError
from channels.base import header

__all__ = [
    "HMAC_SHA1",
    "HMAC_SHA256",
    "SETTINGS_HEADER",
    "SIGNATURE_HEADER",
    "Params",
    "algorithm_of",
    "parse_form",
    "sign",
    "signed_headers",
    "verify",
]

SIGNATURE_HEADER = "X-Twilio-Signature"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
HMAC_SHA1 = "HMAC_SHA1"
HMAC_SHA256 = "HMAC_SHA256"
_HASHES: dict[str, Callable[..., hashlib._Hash]] = {
    HMAC_SHA1: hashlib.sha1,
    HMAC_SHA256: hashlib.sha256,
}
#: A form body Twilio sends is a few kB; more fields than this is not Twilio.
MAX_FIELDS = 200

Params = Sequence[tuple[str, str]]


def parse_form(raw: bytes) -> list[tuple[str, str]]:
    """An ``application/x-www-form-urlencoded`` body as (name, value) pairs, in order, blank
    values kept (they are signed too). :class:`MalformedPayload` when it is not UTF-8 form
    data."""
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPayload(f"not a form-encoded body: {exc}") from None
    return pairs


def _payload(url: str, params: Params) -> bytes:
    by_name: dict[str, set[str]] = {}
    for name, value in params:
        by_name.setdefault(name, set()).add(value)
    text = url + "".join(
        name + value for name in sorted(by_name) for value in sorted(by_name[name])
    )
    return text.encode("utf-8")


def sign(secret: str, url: str, params: Params, algorithm: str = HMAC_SHA1) -> str:
    """The signature Twilio puts in ``X-Twilio-Signature`` for a POST of ``params`` to
    ``url`` (exactly the URL it requests, query string included)."""
    digest = _HASHES.get(algorithm.upper())
    if digest is None:
        raise ValueError(f"unsupported signature algorithm {algorithm!r}")
    mac = hmac.new(secret.encode("utf-8"), _payload(url, params), digest)
    return base64.b64encode(mac.digest()).decode("ascii")


def signed_headers(secret: str, url: str, params: Params) -> dict[str, str]:
    """The headers of a form POST as Twilio sends it (content type and signature)."""
    return {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        SIGNATURE_HEADER: sign(secret, url, params),
    }


def algorithm_of(settings_header: str | None) -> str:
    """The algorithm ``X-Twilio-Webhooks-Signature-Settings`` names; SHA-1 without it."""
    for part in (settings_header or "").split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip() == "algorithm" and value.strip():
            return value.strip().upper()
    return HMAC_SHA1


def _url_variants(url: str) -> list[str]:
    """The URL as given, without its port, and with the scheme's default port when it has
    none (what ``RequestValidator`` tries)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return [url]
    userinfo, _, hostport = parts.netloc.rpartition("@")
    host = hostport.rsplit(":", 1)[0] if port is not None else hostport
    prefix = userinfo + "@" if userinfo else ""
    default = 443 if parts.scheme == "https" else 80
    without = parts._replace(netloc=prefix + host).geturl()
    with_port = parts._replace(netloc=f"{prefix}{host}:{port or default}").geturl()
    return list(dict.fromkeys([url, without, with_port]))


def verify(
    url: str,
    params: Params,
    headers: Mapping[str, str],
    auth_token: str,
    shared_key: str | None = None,
) -> None:
    """Raise :class:`SignatureError` unless ``headers`` carry a valid signature of ``params``
    posted to ``url`` (the public URL Twilio requested). Fails closed: no token, no header, an
    unknown algorithm, or SHA-256 without a configured SharedKey secret."""
    if not auth_token:
        raise SignatureError("voice: auth token is not configured")
    given = header(headers, SIGNATURE_HEADER)
    if not given:
        raise SignatureError(f"missing {SIGNATURE_HEADER}")
    algorithm = algorithm_of(header(headers, SETTINGS_HEADER))
    if algorithm == HMAC_SHA1:
        secret = auth_token
    elif algorithm == HMAC_SHA256 and shared_key:
        secret = shared_key
    else:
        raise SignatureError(f"unsupported or unconfigured signature algorithm {algorithm}")
    expected = given.encode("utf-8", "replace")
    valid = False
    for candidate in _url_variants(url):
        computed = sign(secret, candidate, params, algorithm).encode("ascii")
        valid |= hmac.compare_digest(computed, expected)
    if not valid:
        raise SignatureError(f"wrong {SIGNATURE_HEADER}")
