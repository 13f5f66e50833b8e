"""Is the From address authentic? Read from ``Authentication-Results`` (RFC 8601).

Only a header whose authserv-id is our receiving server's (``TAWASUL_EMAIL_AUTHSERV_ID``) is
trusted: anyone can write such a header into a mail, and RFC 8601 §5 makes the receiving
server delete forged copies carrying *its* id, not others. The first such header counts (the
topmost, added last, by our server). The From domain is verified when that header says

- ``dmarc=pass`` with ``header.from`` equal to the From domain, or
- ``dkim=pass`` with ``header.d`` equal to the From domain or a parent of it, or
- ``spf=pass`` with the ``smtp.mailfrom`` domain equal to the From domain.

Without a configured authserv-id nothing is ever verified (fail closed).
"""

from __future__ import annotations

import re
from email.message import EmailMessage

__all__ = ["from_domain_verified"]

_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9-]+)\s*=\s*([a-z]+)\b(.*)$", re.IGNORECASE | re.DOTALL)
_PROPERTY = re.compile(r"([a-z]+\.[a-z0-9_-]+)\s*=\s*\"?([^\s\";]+)\"?", re.IGNORECASE)


def _strip_comments(value: str) -> str:
    previous = None
    while previous != value:  # nested comments, innermost first
        previous, value = value, _COMMENT.sub(" ", value)
    return value


def _domain(value: str) -> str:
    return value.rpartition("@")[2].strip().strip(".").lower()


def _verifies(method: str, result: str, props: dict[str, str], domain: str) -> bool:
    if result != "pass":
        return False
    if method == "dmarc":
        return _domain(props.get("header.from", "")) == domain
    if method == "dkim":
        d = _domain(props.get("header.d", ""))
        return bool(d) and (domain == d or domain.endswith("." + d))
    if method == "spf":
        return _domain(props.get("smtp.mailfrom", "")) == domain
    return False


def from_domain_verified(msg: EmailMessage, from_address: str, authserv_id: str | None) -> bool:
    """True when our server's Authentication-Results header vouches for ``from_address``'s
    domain (module doc). False for anything else, malformed headers included."""
    if not authserv_id or "@" not in from_address:
        return False
    domain = _domain(from_address)
    try:
        headers = msg.get_all("Authentication-Results") or []
    except Exception:
        return False
    for header in headers:
        value = _strip_comments(str(header)).replace("\r", " ").replace("\n", " ")
        server, _, rest = value.partition(";")
        if server.split() and server.split()[0].lower() == authserv_id:
            for statement in rest.split(";"):
                found = _RESULT.match(statement)
                if found:
                    method, result, tail = found.groups()
                    props = {k.lower(): v for k, v in _PROPERTY.findall(tail)}
                    if _verifies(method.lower(), result.lower(), props, domain):
                        return True
            return False
    return False
