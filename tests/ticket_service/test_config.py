from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ticket_service.config import REPO_ROOT, ConfigError, Role, load_settings, parse_api_keys

CATALOGUE = {
    "pothole": ("Potholes and road damage", "حفر وتلف الطرق", 72),
    "streetlight": ("Street lighting", "إنارة الشوارع", 48),
    "waste": ("Waste collection and cleanliness", "النظافة ورفع النفايات", 24),
    "water_leak": ("Water leak", "تسرب مياه", 12),
    "sewage": ("Sewage overflow", "طفح الصرف الصحي", 6),
    "stray_animals": ("Stray animals", "الحيوانات الضالة", 48),
    "building_violation": ("Building violation", "مخالفات البناء", 120),
    "trees_parks": ("Trees and parks", "الحدائق والأشجار", 96),
    "sidewalk": ("Sidewalks and pavements", "الأرصفة والممرات", 120),
    "other": ("Other", "أخرى", 72),
}


def test_shipped_catalogue_matches_the_architecture_contract() -> None:
    settings = load_settings(env={})
    assert list(settings.services) == list(CATALOGUE)
    for code, (en, ar, sla) in CATALOGUE.items():
        service = settings.services[code]
        assert (service.name.en, service.name.ar, service.sla_hours) == (en, ar, sla)


def test_defaults_need_no_configuration() -> None:
    settings = load_settings(env={})
    assert settings.port == 8090
    assert settings.database_url.startswith("sqlite+aiosqlite:////")  # absolute, inside the repo
    assert settings.api_keys == {}
    assert settings.smtp is None


def test_api_keys_come_from_the_environment() -> None:
    assert parse_api_keys("hub=a1, agent = b2,agent=b3") == {
        "a1": Role.HUB,
        "b2": Role.AGENT,
        "b3": Role.AGENT,
    }
    with pytest.raises(ConfigError, match="unknown role"):
        parse_api_keys("boss=x")
    with pytest.raises(ConfigError):
        parse_api_keys("hub")


def test_subscribers_without_a_secret_are_refused() -> None:
    with pytest.raises(ConfigError, match="TAWASUL_EVENT_SECRET"):
        load_settings(env={"TAWASUL_EVENT_SUBSCRIBERS": "hub=http://127.0.0.1:8080/events"})


def test_a_service_with_an_unknown_department_is_refused(tmp_path: Path) -> None:
    for name in ("tawasul.yml", "municipalities.yml"):
        (tmp_path / name).write_text(
            (REPO_ROOT / "settings" / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    catalogue = yaml.safe_load(
        (REPO_ROOT / "settings" / "catalogue.yml").read_text(encoding="utf-8")
    )
    catalogue["services"][0]["department"] = "nowhere"
    (tmp_path / "catalogue.yml").write_text(
        yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="unknown department 'nowhere'"):
        load_settings(settings_dir=tmp_path, env={})


def test_several_workers_need_postgresql() -> None:
    with pytest.raises(ConfigError, match="workers must be 1 with SQLite"):
        load_settings(env={"TAWASUL_TICKET_WORKERS": "2"})
    pg = "postgresql+asyncpg://tawasul@127.0.0.1/tawasul"
    assert load_settings(env={"TAWASUL_TICKET_WORKERS": "2", "TAWASUL_DB_URL": pg}).workers == 2
