"""scripts/nlu_eval.py: the check that the held-out sets stay held out (pure functions)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "nlu_eval.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nlu_eval_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


nlu_eval = _load()


def test_overlap_key_normalises_spelling_digits_case_and_punctuation() -> None:
    assert nlu_eval.overlap_key("متى تُفتح البلدية؟") == nlu_eval.overlap_key("متي تفتح البلديه")
    assert nlu_eval.overlap_key("Report #٤٨٢٩١٥٧!") == "report 4829157"
    assert nlu_eval.overlap_key("ticket 4829157", mask_numbers=True) == "ticket 0"


def test_a_copied_sentence_is_a_leak_and_a_template_is_not() -> None:
    training = ["3 من 5", "Where is my report?", "hello"]
    overlap = nlu_eval.find_overlap(["٥ من ٥", "where is my report", "٥١٨٣٠٢٧٤"], training)
    assert overlap.leaks == ["where is my report"]
    # Closest first; the rating template is as close as can be once numbers are masked.
    scores = {text: score for score, text, _ in overlap.closest}
    assert scores["٥ من ٥"] == 1.0
    assert scores["where is my report"] == 1.0
    assert overlap.closest[-1][1] == "٥١٨٣٠٢٧٤"


def test_a_leak_fails_the_check() -> None:
    result = nlu_eval.LanguageResult("ar")
    result.add_intent("where is my report", "check_status", "check_status", 0.9)
    result.overlap = nlu_eval.find_overlap(result.texts, ["where is my report?"])
    assert any("also training examples" in line for line in nlu_eval.failures({"ar": result}))
