"""The bot's data is bilingual and self-consistent: domain.yml responses, rules, stories and test
stories against each other and against the contract in docs/bot.md. Pure YAML checks, no Rasa."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "domain.yml"
CONTRACT = ROOT / "docs" / "bot.md"
TRAINING_DIALOGUES = (ROOT / "nlu_data" / "rules.yml", ROOT / "nlu_data" / "stories.yml")
TEST_DIALOGUES = tuple(sorted((ROOT / "tests" / "rasa").glob("test_stories_*.yml")))

#: The NLU contract (ARCHITECTURE.md), and the hub's closure-survey payload (docs/bot.md).
CONTRACT_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "report_issue", "check_status", "follow_up",
    "complain", "inquire", "human_handoff", "rate", "inform", "start_survey",
}  # fmt: skip
#: Responses written in both languages at once, whatever the language slot says.
BILINGUAL = {"utter_other_language"}
#: Placeholders that are no slot: the sending action passes them (docs/bot.md, "Responses").
ACTION_FIELDS = {
    "service_name", "sla_hours", "status_text", "updated", "note", "reference", "quality", "speed",
}  # fmt: skip
#: Rasa's own actions that rules and stories may name without declaring them.
RASA_ACTIONS = {"action_listen", "action_deactivate_loop", "action_restart", "action_back"}

ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
PAYLOAD = re.compile(r"^/(?P<intent>[a-z_]+)(?P<entities>\{.*\})?$")
#: JSON in a domain payload, braces doubled: Rasa formats buttons with the slots like texts.
DOUBLED = re.compile(r"^/[a-z_]+\{\{.*\}\}$")


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    data = _load(DOMAIN)
    assert isinstance(data, dict)
    return data


def _report(problems: list[str], what: str) -> None:
    if problems:
        pytest.fail(f"{len(problems)} {what}:\n  " + "\n  ".join(problems), pytrace=False)


def _is_english(variation: Mapping[str, Any]) -> bool:
    return variation.get("condition") == [{"type": "slot", "name": "language", "value": "en"}]


def _texts(variation: Mapping[str, Any]) -> list[str]:
    """The variation's text and its button titles: everything the citizen reads."""
    titles = [str(b.get("title", "")) for b in variation.get("buttons") or []]
    return [str(variation.get("text") or ""), *titles]


def _placeholders(variation: Mapping[str, Any]) -> set[str]:
    text = str(variation.get("text") or "")
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _payloads(variation: Mapping[str, Any]) -> list[str]:
    return [str(b.get("payload", "")) for b in variation.get("buttons") or []]


def _as_sent(payload: str) -> str | None:
    """The payload a button sends: Rasa formats it like a text, so ``{{``/``}}`` become
    single braces. None for JSON written with single braces (Rasa logs an error for each)."""
    if DOUBLED.match(payload):
        return payload.replace("{{", "{").replace("}}", "}")
    return None if "{" in payload or "}" in payload else payload


def _responses(domain: Mapping[str, Any]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    yield from domain["responses"].items()


def test_domain_intents_are_the_nlu_contract(domain: dict[str, Any]) -> None:
    assert set(domain["intents"]) == CONTRACT_INTENTS


def test_every_response_has_an_arabic_default_and_an_english_variation(
    domain: dict[str, Any],
) -> None:
    problems: list[str] = []
    for name, variations in _responses(domain):
        if not name.startswith("utter_"):
            problems.append(f"{name}: response names start with utter_")
        arabic = [v for v in variations if not v.get("condition")]
        english = [v for v in variations if _is_english(v)]
        others = [v for v in variations if v.get("condition") and not _is_english(v)]
        if others:
            problems.append(f"{name}: a condition other than language=en: {others[0]['condition']}")
        if not arabic:
            problems.append(f"{name}: no Arabic default variation (one without a condition)")
        if not english:
            problems.append(f"{name}: no English variation (condition language=en)")
        for v in arabic:
            if not ARABIC.search(str(v.get("text") or "")):
                problems.append(f"{name}: the default variation's text has no Arabic letters")
            for title in _texts(v)[1:]:
                if not ARABIC.search(title):
                    problems.append(f"{name}: Arabic variation, button {title!r} is not Arabic")
        for v in english:
            for text in _texts(v):
                if ARABIC.search(text) and name not in BILINGUAL:
                    problems.append(f"{name}: the English variation contains Arabic: {text!r}")
            if not re.search(r"[A-Za-z]", str(v.get("text") or "")):
                problems.append(f"{name}: the English variation's text has no English")
        if name in BILINGUAL:
            for v in variations:
                text = str(v.get("text") or "")
                if not (ARABIC.search(text) and re.search(r"[A-Za-z]{3}", text)):
                    problems.append(f"{name}: bilingual responses need both languages in each")
    _report(problems, "responses are not bilingual")


def test_both_languages_use_the_same_placeholders_and_buttons(domain: dict[str, Any]) -> None:
    problems: list[str] = []
    slots = set(domain["slots"])
    for name, variations in _responses(domain):
        placeholders = {frozenset(_placeholders(v)) for v in variations}
        if len(placeholders) > 1:
            found = " vs ".join(sorted(str(sorted(p)) for p in placeholders))
            problems.append(f"{name}: the variations use different placeholders: {found}")
        payloads = {tuple(_payloads(v)) for v in variations}
        if len(payloads) > 1:
            problems.append(f"{name}: the variations offer different buttons: {sorted(payloads)}")
        for v in variations:
            unknown = _placeholders(v) - slots - ACTION_FIELDS
            if unknown:
                problems.append(f"{name}: placeholders neither slot nor action field: {unknown}")
    _report(problems, "responses differ between languages")


def test_button_payloads_are_wellformed(domain: dict[str, Any]) -> None:
    problems: list[str] = []
    intents = set(domain["intents"])
    entities = set(domain["entities"])
    slots: Mapping[str, Mapping[str, Any]] = domain["slots"]
    for name, variations in _responses(domain):
        for written in sorted({p for v in variations for p in _payloads(v)}):
            payload = _as_sent(written)
            if payload is None:
                problems.append(f"{name}: {written!r}: write JSON with doubled braces {{{{ }}}}")
                continue
            match = PAYLOAD.match(payload)
            if not match:
                problems.append(f"{name}: {payload!r} is not /intent or /intent{{json}}")
                continue
            if match["intent"] not in intents:
                problems.append(f"{name}: {payload!r}: unknown intent {match['intent']!r}")
            if not match["entities"]:
                continue
            try:
                values = json.loads(match["entities"])
            except json.JSONDecodeError as exc:
                problems.append(f"{name}: {payload!r}: invalid JSON ({exc})")
                continue
            if not isinstance(values, dict) or not values:
                problems.append(f"{name}: {payload!r}: entities must be a non-empty JSON object")
                continue
            for entity, value in values.items():
                if entity not in entities:
                    problems.append(f"{name}: {payload!r}: unknown entity {entity!r}")
                if not isinstance(value, str):
                    problems.append(f"{name}: {payload!r}: {entity} must be a string")
                allowed = slots.get(entity, {}).get("values")
                if allowed and value not in allowed:
                    problems.append(f"{name}: {payload!r}: {value!r} is no value of {entity}")
    _report(problems, "button payloads are malformed")


def _steps(path: Path) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(block name, step) for every step of every rule and story in ``path``, `or` included."""
    data = _load(path)
    for block in [*(data.get("rules") or []), *(data.get("stories") or [])]:
        label = f"{path.name}: {block.get('rule') or block.get('story')}"
        for step in [*(block.get("condition") or []), *(block.get("steps") or [])]:
            yield from ((label, s) for s in step.get("or") or [step])


def test_rules_and_stories_use_only_declared_names(domain: dict[str, Any]) -> None:
    problems: list[str] = []
    known_actions = {*domain["actions"], *domain["responses"], *domain["forms"], *RASA_ACTIONS}
    intents = {*domain["intents"], "nlu_fallback"}
    for path in (*TRAINING_DIALOGUES, *TEST_DIALOGUES):
        for label, step in _steps(path):
            if "action" in step and step["action"] not in known_actions:
                problems.append(f"{label}: action {step['action']!r} is not in domain.yml")
            if "intent" in step and step["intent"] not in intents:
                problems.append(f"{label}: intent {step['intent']!r} is not in domain.yml")
            for entity in step.get("entities") or []:
                key = next(iter(entity)) if isinstance(entity, dict) else entity
                if key not in domain["entities"]:
                    problems.append(f"{label}: entity {key!r} is not in domain.yml")
            loop = step.get("active_loop")
            if loop is not None and loop not in domain["forms"]:
                problems.append(f"{label}: active_loop {loop!r} is not a form of domain.yml")
            for slot_set in step.get("slot_was_set") or []:
                key = next(iter(slot_set)) if isinstance(slot_set, dict) else slot_set
                if key not in domain["slots"]:
                    problems.append(f"{label}: slot {key!r} is not in domain.yml")
    _report(problems, "names in rules/stories are not declared")


def _contract_table(heading: str) -> list[list[str]]:
    """The rows of the first table under ``## heading`` in docs/bot.md, as cell lists."""
    text = CONTRACT.read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def _names(cell: str) -> list[str]:
    return re.findall(r"`([a-z_]+)`", cell)


def test_contract_actions_are_declared(domain: dict[str, Any]) -> None:
    contract = {name for row in _contract_table("Actions") for name in _names(row[0])}
    missing = sorted(contract - set(domain["actions"]))
    undocumented = sorted(set(domain["actions"]) - contract)
    _report(
        [f"{a}: in docs/bot.md, not in domain.yml actions" for a in missing]
        + [f"{a}: in domain.yml actions, not in docs/bot.md" for a in undocumented],
        "actions differ between docs/bot.md and domain.yml",
    )


def test_responses_outside_rules_and_stories_are_documented(domain: dict[str, Any]) -> None:
    """`rasa data validate` warns about every response no rule or story names: those an action
    or a form's question sends. Each must be in the contract's "Responses" tables, and every
    placeholder that is no slot must be named in its row (the sending action fills it)."""
    used = {
        step["action"]
        for path in TRAINING_DIALOGUES
        for _, step in _steps(path)
        if str(step.get("action", "")).startswith("utter_")
    }
    rows = {
        name: {n for cell in row[1:] for n in _names(cell)}
        for row in _contract_table("Responses")
        for name in _names(row[0])
        if name.startswith("utter_")
    }
    problems = [f"{name}: in docs/bot.md, not in domain.yml" for name in rows if
                name not in domain["responses"]]  # fmt: skip
    slots = set(domain["slots"])
    for name, variations in _responses(domain):
        if name not in used and name not in rows:
            problems.append(f"{name}: no rule or story sends it and docs/bot.md names no sender")
        action_fields = {p for v in variations for p in _placeholders(v)} - slots
        undocumented = action_fields - rows.get(name, set())
        if undocumented:
            problems.append(f"{name}: docs/bot.md doesn't say who fills {sorted(undocumented)}")
    text = CONTRACT.read_text(encoding="utf-8")
    for name in re.findall(r"`(utter_[a-z_]+)` \(\+ buttons", text):
        if any(v.get("buttons") for v in domain["responses"].get(name, [])):
            problems.append(f"{name}: the action adds its buttons; the domain must give none")
    _report(problems, "responses have no known sender")
