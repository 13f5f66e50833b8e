"""settings/voice_prompts.yml is checked when the channel starts: every prompt the code
uses, in both languages, with the placeholders the code fills."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.errors import ConfigError
from channels.voice import from_env, load_checked_prompts
from channels.voice.prompts import DEFAULT_PATH, INBOUND_PROMPTS, INBOUND_WORDS, load_prompts
from tests.bot.support import has_arabic, has_english
from tests.channels.voice.conftest import voice_env


def test_every_prompt_is_there_in_arabic_and_english() -> None:
    prompts = load_checked_prompts()
    for key, placeholders in INBOUND_PROMPTS.items():
        params = {name: "1" for name in placeholders}
        ar, en = prompts.text(key, "ar", **params), prompts.text(key, "en", **params)
        if key != "digit_separator":
            assert has_arabic(ar) and not has_english(ar), key
            assert has_english(en) and not has_arabic(en), key
    for key in INBOUND_WORDS:
        assert prompts.phrases(key, "ar") and prompts.phrases(key, "en")


def _write(tmp_path: Path, change: object) -> Path:
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path = tmp_path / "prompts.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["prompts"].pop("main_menu"), "'main_menu' is missing"),
        (lambda d: d["prompts"]["goodbye"].pop("en"), "goodbye"),
        (lambda d: d["prompts"]["goodbye"].update(ar="  "), "goodbye"),
        (lambda d: d["prompts"]["ticket_status"].update(en="Report {number}"), "ar and en"),
        (
            lambda d: d["prompts"]["ticket_status"].update(ar="{number}", en="{number}"),
            "placeholders",
        ),
        (lambda d: d["prompts"]["goodbye"].update(ar="{", en="{"), "braces"),
        (lambda d: d["words"].pop("menu_agent"), "menu_agent"),
        (lambda d: d["words"]["menu_agent"].update(en=[]), "menu_agent"),
        (lambda d: d.pop("prompts"), "prompts"),
    ],
)
def test_a_broken_file_stops_the_start(tmp_path: Path, change: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_prompts(_write(tmp_path, change))


def test_the_language_switch_phrase_must_be_one_the_bot_knows(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d["prompts"]["switch_language"].update(en="hello"))
    with pytest.raises(ConfigError, match=r"switch_language\.en"):
        load_checked_prompts(path)
    env = {**voice_env("https://ivr.example.org"), "TAWASUL_VOICE_PROMPTS": str(path)}
    with pytest.raises(ConfigError):
        from_env(env)


def test_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_prompts(tmp_path / "missing.yml")
    (tmp_path / "bad.yml").write_text("prompts: [", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        load_prompts(tmp_path / "bad.yml")
