"""Settings of the ticket service: YAML files under ``settings/`` plus secrets from the environment.

The catalogue (services, SLAs, departments), the municipalities (areas, aliases, escalation
contacts) and the runtime knobs are data, not code. Secrets are read only from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from ticket_service.geo import Ring

REPO_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("ar", "en")


class ConfigError(Exception):
    """The settings files or environment are inconsistent; the message says where."""


class Role(StrEnum):
    HUB = "hub"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    SATISFACTION = "satisfaction"
    ADMIN = "admin"


@dataclass(frozen=True)
class Text:
    """A bilingual string."""

    ar: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.ar


@dataclass(frozen=True)
class AttributeValue:
    key: str
    name: Text


@dataclass(frozen=True)
class Attribute:
    code: str
    variable: bool
    datatype: str
    required: bool
    order: int
    description: Text
    datatype_description: Text | None
    values: tuple[AttributeValue, ...]


@dataclass(frozen=True)
class Service:
    code: str
    name: Text
    description: Text
    group: Text
    keywords: Mapping[str, tuple[str, ...]]
    sla_hours: int
    department: str
    urgent: bool
    attributes: tuple[Attribute, ...]


@dataclass(frozen=True)
class Municipality:
    code: str
    name: Text
    aliases: tuple[str, ...]
    rings: tuple[Ring, ...]
    escalation_contacts: Mapping[int, tuple[str, ...]]


@dataclass(frozen=True)
class Subscriber:
    name: str
    url: str


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool
    sender: str
    username: str | None
    password: str | None


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    workers: int
    database_url: str
    jurisdiction_id: str
    default_language: str
    max_body_bytes: int
    page_size_default: int
    page_size_max: int
    duplicate_radius_m: float
    followup_sla_hours: int
    escalation_thresholds: tuple[float, ...]
    escalation_reminders: bool
    escalation_interval_s: float
    escalation_batch: int
    subscribers: tuple[Subscriber, ...]
    retry_initial_s: float
    retry_max_s: float
    event_timeout_s: float
    event_secret: bytes
    smtp: SmtpSettings | None
    api_keys: Mapping[str, Role]
    services: Mapping[str, Service]
    departments: Mapping[str, Text]
    municipalities: tuple[Municipality, ...]
    default_municipality: str

    def service(self, code: str) -> Service | None:
        return self.services.get(code)

    def municipality(self, code: str) -> Municipality | None:
        return next((m for m in self.municipalities if m.code == code), None)


def _text(raw: Any, where: str) -> Text:
    if isinstance(raw, str):
        return Text(ar=raw, en=raw)
    if not isinstance(raw, Mapping) or not all(lang in raw for lang in LANGUAGES):
        raise ConfigError(f"{where}: needs both 'ar' and 'en' text")
    return Text(ar=str(raw["ar"]), en=str(raw["en"]))


def _attribute(raw: Mapping[str, Any], where: str) -> Attribute:
    values = tuple(
        AttributeValue(key=str(v["key"]), name=_text(v["name"], f"{where}.values"))
        for v in raw.get("values") or ()
    )
    dd = raw.get("datatype_description")
    return Attribute(
        code=str(raw["code"]),
        variable=bool(raw.get("variable", True)),
        datatype=str(raw.get("datatype", "string")),
        required=bool(raw.get("required", False)),
        order=int(raw.get("order", 1)),
        description=_text(raw["description"], f"{where}.description"),
        datatype_description=_text(dd, f"{where}.datatype_description") if dd else None,
        values=values,
    )


def _service(raw: Mapping[str, Any], departments: Mapping[str, Text]) -> Service:
    code = str(raw["code"])
    where = f"catalogue service {code}"
    department = str(raw["department"])
    if department not in departments:
        raise ConfigError(f"{where}: unknown department {department!r}")
    keywords = raw.get("keywords") or {}
    return Service(
        code=code,
        name=_text(raw["name"], f"{where}.name"),
        description=_text(raw.get("description", raw["name"]), f"{where}.description"),
        group=_text(raw.get("group", raw["name"]), f"{where}.group"),
        keywords={lang: tuple(str(k) for k in keywords.get(lang, ())) for lang in LANGUAGES},
        sla_hours=int(raw["sla_hours"]),
        department=department,
        urgent=bool(raw.get("urgent", False)),
        attributes=tuple(
            sorted(
                (_attribute(a, f"{where}.attributes") for a in raw.get("attributes") or ()),
                key=lambda a: a.order,
            )
        ),
    )


def _municipality(raw: Mapping[str, Any]) -> Municipality:
    code = str(raw["code"])
    area = raw.get("area") or {}
    if area.get("type") != "Polygon":
        raise ConfigError(f"municipality {code}: area must be a GeoJSON Polygon")
    rings = tuple(tuple((float(p[0]), float(p[1])) for p in ring) for ring in area["coordinates"])
    contacts = {
        int(level): tuple(str(a) for a in addrs or ())
        for level, addrs in (raw.get("escalation") or {}).items()
    }
    return Municipality(
        code=code,
        name=_text(raw["name"], f"municipality {code}.name"),
        aliases=tuple(str(a) for a in raw.get("aliases") or ()),
        rings=rings,
        escalation_contacts=contacts,
    )


def parse_api_keys(spec: str) -> dict[str, Role]:
    """``role=key,role=key`` (several keys per role allowed) → {key: role}."""
    keys: dict[str, Role] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        role, sep, key = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError("TAWASUL_API_KEYS must look like 'hub=KEY,agent=KEY'")
        try:
            keys[key] = Role(role.strip())
        except ValueError as exc:
            raise ConfigError(f"TAWASUL_API_KEYS: unknown role {role!r}") from exc
    return keys


def _subscribers(raw: Any, env: Mapping[str, str]) -> tuple[Subscriber, ...]:
    spec = env.get("TAWASUL_EVENT_SUBSCRIBERS")
    if spec is not None:
        pairs = [item.partition("=") for item in spec.split(",") if item.strip()]
        return tuple(Subscriber(name=n.strip(), url=u.strip()) for n, _, u in pairs)
    return tuple(Subscriber(name=str(s["name"]), url=str(s["url"])) for s in raw or ())


def _smtp(raw: Mapping[str, Any], env: Mapping[str, str]) -> SmtpSettings | None:
    host = env.get("TAWASUL_SMTP_HOST", str(raw.get("host") or ""))
    if not host:
        return None
    starttls = env.get("TAWASUL_SMTP_STARTTLS", str(raw.get("starttls", True))).lower()
    return SmtpSettings(
        host=host,
        port=int(env.get("TAWASUL_SMTP_PORT", raw.get("port", 587))),
        starttls=starttls in {"1", "true", "yes"},
        sender=env.get("TAWASUL_SMTP_FROM", str(raw.get("sender", "no-reply@localhost"))),
        username=env.get("TAWASUL_SMTP_USER") or None,
        password=env.get("TAWASUL_SMTP_PASSWORD") or None,
    )


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"settings file missing: {path}") from exc


def _database_url(raw: str) -> str:
    """Relative SQLite paths are relative to the repository, not the working directory."""
    prefix = "sqlite+aiosqlite:///"
    if raw.startswith(prefix) and not raw.startswith(prefix + "/") and ":memory:" not in raw:
        return prefix + str(REPO_ROOT / raw[len(prefix) :])
    return raw


def load_settings(
    settings_dir: Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read ``tawasul.yml``, ``catalogue.yml`` and ``municipalities.yml`` plus the environment."""
    env = os.environ if env is None else env
    base = settings_dir or Path(env.get("TAWASUL_SETTINGS_DIR", REPO_ROOT / "settings"))
    main = (_read_yaml(base / "tawasul.yml") or {}).get("ticket_service") or {}
    catalogue = _read_yaml(base / "catalogue.yml") or {}
    munis = _read_yaml(base / "municipalities.yml") or {}

    departments = {
        str(code): _text(name, f"department {code}")
        for code, name in (catalogue.get("departments") or {}).items()
    }
    services = {s.code: s for s in (_service(r, departments) for r in catalogue["services"])}
    municipalities = tuple(_municipality(r) for r in munis["municipalities"])
    default_muni = str(munis.get("default") or municipalities[0].code)
    if default_muni not in {m.code for m in municipalities}:
        raise ConfigError(f"municipalities.yml: default {default_muni!r} is not listed")
    for needed in ("beneficiary_satisfaction", "customer_care"):
        if needed not in departments:
            raise ConfigError(f"catalogue.yml: department {needed!r} is required")

    escalation = main.get("escalation") or {}
    thresholds = tuple(float(t) for t in escalation.get("thresholds", (1.0, 1.5, 2.0)))
    if list(thresholds) != sorted(thresholds) or not thresholds or thresholds[0] <= 0:
        raise ConfigError("escalation.thresholds must be positive and increasing")
    events = main.get("events") or {}
    secret = env.get("TAWASUL_EVENT_SECRET", "")
    subscribers = _subscribers(events.get("subscribers"), env)
    if subscribers and not secret:
        raise ConfigError("TAWASUL_EVENT_SECRET must be set when event subscribers are configured")

    database_url = _database_url(
        env.get(
            "TAWASUL_DB_URL", str(main.get("database_url", "sqlite+aiosqlite:///var/tickets.db"))
        )
    )
    workers = int(env.get("TAWASUL_TICKET_WORKERS", main.get("workers", 1)))
    if workers < 1 or (workers > 1 and database_url.startswith("sqlite")):
        raise ConfigError("workers must be 1 with SQLite (one writer); use PostgreSQL for more")

    return Settings(
        host=env.get("TAWASUL_TICKET_HOST", str(main.get("host", "127.0.0.1"))),
        port=int(env.get("TAWASUL_TICKET_PORT", main.get("port", 8090))),
        workers=workers,
        database_url=database_url,
        jurisdiction_id=str(main.get("jurisdiction_id", "")),
        default_language=str(main.get("default_language", "ar")),
        max_body_bytes=int(main.get("max_body_bytes", 262144)),
        page_size_default=int(main.get("page_size_default", 100)),
        page_size_max=int(main.get("page_size_max", 1000)),
        duplicate_radius_m=float(main.get("duplicate_radius_m", 50)),
        followup_sla_hours=int(main.get("followup_sla_hours", 24)),
        escalation_thresholds=thresholds,
        escalation_reminders=bool(escalation.get("reminders", True)),
        escalation_interval_s=float(escalation.get("interval_seconds", 30)),
        escalation_batch=int(escalation.get("batch_size", 200)),
        subscribers=subscribers,
        retry_initial_s=float(events.get("retry_initial_seconds", 2)),
        retry_max_s=float(events.get("retry_max_seconds", 600)),
        event_timeout_s=float(events.get("request_timeout_seconds", 10)),
        event_secret=secret.encode(),
        smtp=_smtp(main.get("smtp") or {}, env),
        api_keys=parse_api_keys(env.get("TAWASUL_API_KEYS", "")),
        services=services,
        departments=departments,
        municipalities=municipalities,
        default_municipality=default_muni,
    )
