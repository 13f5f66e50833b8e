#!/usr/bin/env python3
"""Evaluate the NLU model on held-out data, per language; write docs/nlu-eval.md.

Runs inside the Rasa environment (`make nlu-eval` does it for you)::

    .venv-rasa/bin/python scripts/nlu_eval.py [--check] [--no-cache] [--model models/x.tar.gz]

1. Trains an NLU-only model (`rasa train nlu`, config.yml) on every data file under nlu_data/
   except nlu_data/test/ — unless ``--model`` names an existing model to evaluate instead.
2. Parses every example of the held-out files nlu_data/test/*_<lang>.yml (Rasa NLU YAML;
   ``lang`` is ``ar`` or ``en``) with the model, through Rasa's own `Agent.parse_message`,
   so the whole pipeline runs: normaliser, DIET, synonym mapper, ticket extractor, fallback.
3. Reports, per language: intent macro-F1 (over the intents of that language's test set; a
   message the FallbackClassifier turned into ``nlu_fallback`` counts as a wrong intent),
   per-intent precision / recall / F1, and entity F1 for ``service`` and ``ticket_id``
   compared on values: the expected and predicted values both go through the training
   data's synonyms (and the Arabic normaliser), ticket numbers as ASCII digits without '#'.
4. Checks that the held-out sets stay held out: a held-out example whose text (normalised,
   lower-cased, punctuation dropped) is also a training example is a leak; the report lists
   the leaks and, per language, the held-out examples closest to a training example
   (character-trigram Jaccard similarity, numbers masked), so near-copies are visible too.
5. Writes docs/nlu-eval.md (tables, date, commit, how it was measured) and, with
   ``--json PATH``, the numbers as JSON.

``--check`` exits 1 when a language misses a target: intent macro-F1 >= 0.95, service
F1 >= 0.90, ticket_id F1 >= 0.98, or when a held-out example with letters is also a training
example. Exit 2 on a usage error (no test files, no rasa, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # nlu_components (custom components of the model)

from nlu_components.arabic_text import normalise, to_ascii_digits  # noqa: E402

TARGETS = {"intent_macro_f1": 0.95, "service_f1": 0.90, "ticket_id_f1": 0.98}
ENTITIES_SCORED = ("service", "ticket_id")
HELD_OUT = "test"
LANG_RE = re.compile(r"_(?P<lang>[a-z]{2})\.ya?ml$")
FALLBACK_INTENT = "nlu_fallback"
MAX_ERRORS_LISTED = 25


def _log(message: str) -> None:
    print(f"nlu_eval: {message}", flush=True)


# --- metrics (pure) ------------------------------------------------------------------------


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn


def multiset_counts(expected: list[str], predicted: list[str]) -> Counts:
    """TP/FP/FN of two bags of values (one message's entities of one type)."""
    exp, pred = Counter(expected), Counter(predicted)
    tp = sum((exp & pred).values())
    return Counts(tp=tp, fp=sum(pred.values()) - tp, fn=sum(exp.values()) - tp)


# --- held-out overlap (pure) ------------------------------------------------------------------

OVERLAP_LISTED = 8
_NUMBER_RE = re.compile(r"\d+")
_PUNCT_RE = re.compile(r"[^\w\s]")
_LETTER_RE = re.compile(r"[^\W\d_]")


def overlap_key(text: str, *, mask_numbers: bool = False) -> str:
    """``text`` normalised for comparison: Arabic normalisation, ASCII digits, lower case,
    punctuation dropped, single spaces; with ``mask_numbers`` every number becomes ``0``."""
    key = to_ascii_digits(normalise(text)).lower()
    if mask_numbers:
        key = _NUMBER_RE.sub("0", key)
    return " ".join(_PUNCT_RE.sub(" ", key).split())


def trigrams(text: str) -> frozenset[str]:
    """Character trigrams of ``text`` (numbers masked, so ticket numbers do not count)."""
    padded = f" {overlap_key(text, mask_numbers=True)} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


@dataclass
class Overlap:
    """How close the held-out examples of one language are to the training examples."""

    leaks: list[str] = field(default_factory=list)
    #: (similarity, held-out text, closest training text), most similar first.
    closest: list[tuple[float, str, str]] = field(default_factory=list)


def find_overlap(held_out: list[str], training: list[str]) -> Overlap:
    """Leaks (same :func:`overlap_key`, ignoring texts without letters, such as a bare
    number) and each held-out text's closest training text by trigram Jaccard similarity
    (numbers masked: "٥ من ٥" and "3 من 5" are as close as can be, but no leak)."""
    keys = {overlap_key(t) for t in training}
    grams = [(t, trigrams(t)) for t in training]
    result = Overlap()
    for text in held_out:
        if _LETTER_RE.search(text) and overlap_key(text) in keys:
            result.leaks.append(text)
        mine = trigrams(text)
        best, closest = 0.0, ""
        for other, theirs in grams:
            union = len(mine | theirs)
            score = len(mine & theirs) / union if union else 0.0
            if score > best:
                best, closest = score, other
        result.closest.append((best, text, closest))
    result.closest.sort(key=lambda row: -row[0])
    return result


@dataclass
class LanguageResult:
    language: str
    files: list[str] = field(default_factory=list)
    n_examples: int = 0
    intents: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    gold_intents: Counter[str] = field(default_factory=Counter)
    entities: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    entity_examples: Counter[str] = field(default_factory=Counter)
    fallbacks: int = 0
    intent_errors: list[tuple[str, str, str, float]] = field(default_factory=list)
    entity_errors: list[tuple[str, str, list[str], list[str]]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    overlap: Overlap | None = None

    def add_intent(self, text: str, gold: str, predicted: str, confidence: float) -> None:
        self.texts.append(text)
        self.gold_intents[gold] += 1
        if predicted == gold:
            self.intents[gold].tp += 1
        else:
            self.intents[gold].fn += 1
            self.intents[predicted].fp += 1
            self.intent_errors.append((text, gold, predicted, confidence))
        if predicted == FALLBACK_INTENT:
            self.fallbacks += 1

    @property
    def intent_macro_f1(self) -> float:
        labels = sorted(self.gold_intents)
        return sum(self.intents[label].f1 for label in labels) / len(labels) if labels else 0.0

    @property
    def intent_accuracy(self) -> float:
        correct = sum(self.intents[label].tp for label in self.gold_intents)
        return correct / self.n_examples if self.n_examples else 0.0

    def scores(self) -> dict[str, float | None]:
        return {
            "intent_macro_f1": self.intent_macro_f1,
            "service_f1": self.entity_f1("service"),
            "ticket_id_f1": self.entity_f1("ticket_id"),
        }

    def entity_f1(self, entity: str) -> float | None:
        counts = self.entities.get(entity)
        if counts is None or counts.tp + counts.fp + counts.fn == 0:
            return None
        return counts.f1


# --- Rasa glue -----------------------------------------------------------------------------


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("RASA_CACHE_DIRECTORY", str(REPO_ROOT / "var" / "rasa-cache"))
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    return env


def stage_training_data(data_dir: Path, staging: Path) -> int:
    """Link every data file under ``data_dir`` except the held-out folder into ``staging``
    (`rasa train nlu` takes a single --nlu path). Returns the number of files."""
    count = 0
    for path in sorted(data_dir.rglob("*")):
        relative = path.relative_to(data_dir)
        if relative.parts[0] == HELD_OUT or any(p.startswith(".") for p in relative.parts):
            continue
        if path.is_file() and path.suffix in (".yml", ".yaml"):
            target = staging / "__".join(relative.parts)
            target.symlink_to(path.resolve())
            count += 1
    return count


def train_nlu(
    config: Path, nlu_dir: Path, out: Path, rasa: Path, cache: Path | None = None
) -> tuple[Path, float]:
    """Trains an NLU-only model; ``cache`` replaces Rasa's training cache (an empty folder
    times a training from scratch)."""
    command = [
        str(rasa),
        "train",
        "nlu",
        "--config",
        str(config),
        "--nlu",
        str(nlu_dir),
        "--out",
        str(out),
        "--fixed-model-name",
        "nlu-eval",
    ]
    _log("training an NLU-only model: " + " ".join(command))
    started = time.monotonic()
    env = rasa_env()
    if cache is not None:
        env["RASA_CACHE_DIRECTORY"] = str(cache)
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, check=False)
    elapsed = time.monotonic() - started
    model = out / "nlu-eval.tar.gz"
    if completed.returncode != 0 or not model.is_file():
        raise SystemExit(f"nlu_eval: training failed (exit status {completed.returncode})")
    _log(f"trained in {elapsed:.0f} s")
    return model, elapsed


def quiet_rasa() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    warnings.filterwarnings("ignore")
    logging.getLogger().setLevel(logging.WARNING)
    for name in ("rasa", "tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)


class ValueNormaliser:
    """Maps an entity value to its canonical form with the training data's synonyms."""

    def __init__(self, synonyms: dict[str, str], taa_marbuta: bool = True) -> None:
        self._taa = taa_marbuta
        self._synonyms = {self._key(k): str(v) for k, v in synonyms.items()}

    def _key(self, value: str) -> str:
        return normalise(str(value), taa_marbuta=self._taa).strip().lower()

    def __call__(self, entity: str, value: Any) -> str:
        text = str(value)
        if entity == "ticket_id":
            return to_ascii_digits(text).lstrip("#").strip()
        return self._synonyms.get(self._key(text), text).strip().lower()


def _display(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def language_of(path: Path) -> str:
    match = LANG_RE.search(path.name)
    return match.group("lang") if match else "other"


async def evaluate(
    model: Path, test_files: list[Path], values: ValueNormaliser
) -> tuple[dict[str, LanguageResult], float, float]:
    from rasa.core.agent import Agent  # type: ignore[import-not-found, import-untyped, unused-ignore]
    from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT  # type: ignore[import-not-found, import-untyped, unused-ignore]
    from rasa.shared.nlu.training_data.loading import load_data  # type: ignore[import-not-found, import-untyped, unused-ignore]

    started = time.monotonic()
    agent = Agent.load(str(model))
    load_seconds = time.monotonic() - started
    results: dict[str, LanguageResult] = {}
    parse_seconds = 0.0
    n_parsed = 0
    for path in test_files:
        lang = language_of(path)
        result = results.setdefault(lang, LanguageResult(lang))
        result.files.append(_display(path))
        data = load_data(str(path))
        for example in data.intent_examples:
            text = example.get(TEXT)
            gold_intent = example.get(INTENT)
            t0 = time.monotonic()
            parsed = await agent.parse_message(text)
            parse_seconds += time.monotonic() - t0
            n_parsed += 1
            result.n_examples += 1
            intent = parsed.get("intent") or {}
            result.add_intent(
                text,
                gold_intent,
                intent.get("name") or "None",
                float(intent.get("confidence") or 0.0),
            )
            gold_entities = example.get(ENTITIES) or []
            predicted_entities = parsed.get("entities") or []
            for entity in ENTITIES_SCORED:
                expected = [
                    values(entity, e["value"]) for e in gold_entities if e["entity"] == entity
                ]
                predicted = [
                    values(entity, e["value"]) for e in predicted_entities if e["entity"] == entity
                ]
                if not expected and not predicted:
                    continue
                result.entity_examples[entity] += 1 if expected else 0
                counts = multiset_counts(expected, predicted)
                total = result.entities[entity]
                total.tp += counts.tp
                total.fp += counts.fp
                total.fn += counts.fn
                if counts.fp or counts.fn:
                    result.entity_errors.append((text, entity, expected, predicted))
    per_parse = parse_seconds / n_parsed if n_parsed else 0.0
    return results, load_seconds, per_parse


# --- report --------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _verdict(name: str, value: float | None) -> str:
    if value is None:
        return "no data"
    return "ok" if value >= TARGETS[name] else "**below target**"


def failures(results: dict[str, LanguageResult]) -> list[str]:
    missed = []
    for lang in ("ar", "en"):
        result = results.get(lang)
        if result is None:
            missed.append(f"{lang}: no held-out test file (nlu_data/test/*_{lang}.yml)")
            continue
        for name, value in result.scores().items():
            if value is None:
                missed.append(f"{lang}: {name} not measurable (no such entity in the test data)")
            elif value < TARGETS[name]:
                missed.append(f"{lang}: {name} = {value:.3f} < {TARGETS[name]}")
        if result.overlap is not None and result.overlap.leaks:
            missed.append(
                f"{lang}: {len(result.overlap.leaks)} held-out examples are also training examples"
            )
    return missed


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "config.yml", "nlu_data", "nlu_components"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return out + (" (with uncommitted NLU changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def render_report(
    results: dict[str, LanguageResult],
    *,
    model_note: str,
    train_seconds: float | None,
    load_seconds: float,
    per_parse: float,
    n_train_files: int | None,
    from_scratch: bool = False,
) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# NLU evaluation (held-out test sets)",
        "",
        "Generated by `make nlu-eval` (`scripts/nlu_eval.py`); do not edit by hand.",
        "",
        f"- Date: {now}; commit {git_commit()}",
        f"- Model: {model_note}",
    ]
    if train_seconds is not None:
        cache_note = (
            "from scratch: --no-cache, an empty training cache"
            if from_scratch
            else "Rasa restores components from its cache, var/rasa-cache, when their inputs "
            "did not change"
        )
        lines.append(
            f"- NLU-only training step: {train_seconds:.0f} s on this machine "
            f"({os.cpu_count()} CPUs), {n_train_files} training files ({cache_note})"
        )
    lines += [
        f"- Model load {load_seconds:.1f} s; {per_parse * 1000:.0f} ms per parsed message "
        "(in-process, one at a time)",
        "",
        "How it is measured: every example of `nlu_data/test/*_<lang>.yml` (never trained on) is",
        "parsed by the whole pipeline through Rasa's `Agent.parse_message`. Intent macro-F1 is",
        "the mean F1 over the intents present in that language's test set; a message the",
        "FallbackClassifier turns into `nlu_fallback` counts as wrong. Entity F1 compares",
        "values per message (micro over all messages): `service` after the training data's",
        "synonyms (so `حفره` and `pothole` both score as `pothole`), `ticket_id` as ASCII digits",
        "without `#`. Positions are not compared.",
        "",
        "## Summary",
        "",
        "| language | examples | intent macro-F1 | intent accuracy | fallbacks "
        "| service F1 | ticket_id F1 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for lang in sorted(results):
        r = results[lang]
        s = r.scores()
        lines.append(
            f"| {lang} | {r.n_examples} | {_fmt(s['intent_macro_f1'])} "
            f"({_verdict('intent_macro_f1', s['intent_macro_f1'])}) "
            f"| {r.intent_accuracy:.3f} | {r.fallbacks} "
            f"| {_fmt(s['service_f1'])} ({_verdict('service_f1', s['service_f1'])}) "
            f"| {_fmt(s['ticket_id_f1'])} ({_verdict('ticket_id_f1', s['ticket_id_f1'])}) |"
        )
    lines += [
        "",
        f"Targets per language: intent macro-F1 ≥ {TARGETS['intent_macro_f1']}, "
        f"service F1 ≥ {TARGETS['service_f1']}, ticket_id F1 ≥ {TARGETS['ticket_id_f1']}.",
    ]
    missed = failures(results)
    lines += ["", "Result: " + ("all targets met." if not missed else "; ".join(missed) + ".")]
    for lang in sorted(results):
        r = results[lang]
        lines += [
            "",
            f"## {lang}",
            "",
            f"Test files: {', '.join(f'`{f}`' for f in r.files)}",
            "",
            "| intent | support | precision | recall | F1 |",
            "|---|---:|---:|---:|---:|",
        ]
        for label in sorted(r.gold_intents):
            c = r.intents[label]
            lines.append(
                f"| {label} | {c.support} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} |"
            )
        extra = sorted(set(r.intents) - set(r.gold_intents))
        for label in extra:
            lines.append(f"| {label} (predicted only) | 0 | - | - | - ({r.intents[label].fp} FP) |")
        lines += ["", "| entity | messages | TP | FP | FN | precision | recall | F1 |"]
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for entity in ENTITIES_SCORED:
            c = r.entities.get(entity, Counts())
            lines.append(
                f"| {entity} | {r.entity_examples[entity]} | {c.tp} | {c.fp} | {c.fn} "
                f"| {c.precision:.3f} | {c.recall:.3f} | {_fmt(r.entity_f1(entity))} |"
            )
        if r.intent_errors:
            lines += ["", "Wrong intents (text → expected / predicted, confidence):", ""]
            for text, gold, guess, conf in r.intent_errors[:MAX_ERRORS_LISTED]:
                lines.append(f"- {_md(text)} → {gold} / {guess} ({conf:.2f})")
            if len(r.intent_errors) > MAX_ERRORS_LISTED:
                lines.append(f"- … and {len(r.intent_errors) - MAX_ERRORS_LISTED} more")
        if r.entity_errors:
            lines += ["", "Entity mismatches (text → entity: expected / predicted):", ""]
            for text, entity, wanted, got in r.entity_errors[:MAX_ERRORS_LISTED]:
                lines.append(f"- {_md(text)} → {entity}: {wanted} / {got}")
            if len(r.entity_errors) > MAX_ERRORS_LISTED:
                lines.append(f"- … and {len(r.entity_errors) - MAX_ERRORS_LISTED} more")
        if r.overlap is not None:
            lines += _overlap_lines(r.overlap)
    return "\n".join(lines) + "\n"


def _overlap_lines(overlap: Overlap) -> list[str]:
    lines = [
        "",
        "Held out? Held-out examples that are also training examples (after normalisation): "
        f"{len(overlap.leaks)}"
        + (": " + ", ".join(_md(t) for t in overlap.leaks) if overlap.leaks else "")
        + f". The {OVERLAP_LISTED} closest to a training example (character-trigram Jaccard "
        "similarity; short greetings and bare numbers are close by nature):",
        "",
    ]
    for score, text, closest in overlap.closest[:OVERLAP_LISTED]:
        lines.append(f"- {score:.2f} {_md(text)} ~ {_md(closest)}")
    return lines


def _md(text: str) -> str:
    return "`" + text.replace("`", "'").replace("\n", " ") + "`"


def to_json(results: dict[str, LanguageResult]) -> dict[str, Any]:
    return {
        lang: {
            "examples": r.n_examples,
            **r.scores(),
            "intent_accuracy": r.intent_accuracy,
            "fallbacks": r.fallbacks,
            "per_intent_f1": {label: r.intents[label].f1 for label in sorted(r.gold_intents)},
            "held_out_leaks": len(r.overlap.leaks) if r.overlap else None,
        }
        for lang, r in sorted(results.items())
    }


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--model", help="evaluate this model instead of training one")
    parser.add_argument("--config", default=str(REPO_ROOT / "config.yml"))
    parser.add_argument("--data-dir", default=str(REPO_ROOT / "nlu_data"))
    parser.add_argument("--test-dir", default=None, help="default: <data-dir>/test")
    parser.add_argument("--report", default=str(REPO_ROOT / "docs" / "nlu-eval.md"))
    parser.add_argument("--json", default=None, help="also write the scores as JSON here")
    parser.add_argument("--save-model", default=None, help="keep the trained model at this path")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="train with an empty Rasa cache (times a training from scratch)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import rasa  # type: ignore[import-not-found, import-untyped, unused-ignore]  # noqa: F401
    except ImportError:
        _log(
            f"error: rasa is not importable from {sys.executable}; run this with "
            ".venv-rasa/bin/python (make nlu-eval)"
        )
        return 2
    data_dir = Path(args.data_dir).resolve()
    test_dir = Path(args.test_dir).resolve() if args.test_dir else data_dir / HELD_OUT
    test_files = sorted(p for p in test_dir.glob("*.y*ml") if p.suffix in (".yml", ".yaml"))
    if not test_files:
        _log(f"error: no held-out test files in {test_dir}")
        return 2

    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader  # type: ignore[import-not-found, import-untyped, unused-ignore]
    from rasa.shared.nlu.training_data.loading import load_data  # type: ignore[import-not-found, import-untyped, unused-ignore]

    quiet_rasa()
    with tempfile.TemporaryDirectory(prefix="nlu-eval-") as tmp:
        staging = Path(tmp) / "nlu"
        staging.mkdir()
        n_files = stage_training_data(data_dir, staging)
        if n_files == 0:
            _log(f"error: no training data under {data_dir} (outside {HELD_OUT}/)")
            return 2
        # Synonyms and example texts of the training data (NLU files only; rules and stories
        # may sit beside them).
        synonyms: dict[str, str] = {}
        training_texts: list[str] = []
        for path in sorted(staging.iterdir()):
            if RasaYAMLReader.is_yaml_nlu_file(str(path)):
                training = load_data(str(path))
                synonyms.update(training.entity_synonyms)
                training_texts += [str(e.get("text")) for e in training.intent_examples]
        values = ValueNormaliser(synonyms)
        train_seconds: float | None = None
        if args.model:
            model = Path(args.model).resolve()
            model_note = f"`{args.model}` (given with --model)"
        else:
            rasa_bin = Path(sys.executable).parent / "rasa"
            cache = Path(tmp) / "cache" if args.no_cache else None
            if cache is not None:
                cache.mkdir()
            model, train_seconds = train_nlu(
                Path(args.config).resolve(), staging, Path(tmp) / "models", rasa_bin, cache
            )
            model_note = (
                f"NLU-only, trained on {_display(data_dir)}/ without {HELD_OUT}/, "
                f"config {_display(Path(args.config))}"
            )
            if args.save_model:
                shutil.copyfile(model, args.save_model)
        _log(f"evaluating {model.name} on {', '.join(p.name for p in test_files)}")
        results, load_seconds, per_parse = asyncio.run(evaluate(model, test_files, values))
    for result in results.values():
        result.overlap = find_overlap(result.texts, training_texts)

    report = render_report(
        results,
        model_note=model_note,
        train_seconds=train_seconds,
        load_seconds=load_seconds,
        per_parse=per_parse,
        n_train_files=n_files,
        from_scratch=bool(args.no_cache) and not args.model,
    )
    report_path = Path(args.report)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(report, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(to_json(results), indent=2) + "\n", encoding="utf-8")
    for lang in sorted(results):
        s = results[lang].scores()
        _log(
            f"{lang}: {results[lang].n_examples} examples, intent macro-F1 "
            f"{_fmt(s['intent_macro_f1'])}, service F1 {_fmt(s['service_f1'])}, "
            f"ticket_id F1 {_fmt(s['ticket_id_f1'])}"
        )
    _log(f"report written to {report_path}")
    missed = failures(results)
    if missed:
        for line in missed:
            _log(f"target missed: {line}")
        if args.check:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
