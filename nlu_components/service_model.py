"""Service-code votes learned from training data (pure Python, no Rasa; Python 3.10+).

:class:`ServiceModel` learns, from the ``service`` annotations of the training examples
(span text -> service code) and the entity synonyms whose value is a service code, which words
(and, for unseen spellings, which character 4-grams) point at which code. Each word is also
weighted by how often it appears *inside* a service span rather than elsewhere in the training
sentences, so context words such as "road" or "الشارع" count for little.

Two uses (see ``nlu_components.service_resolver``):

* :meth:`ServiceModel.resolve` maps an extracted span (``"street lighting"``) to a code;
* :meth:`ServiceModel.detect` scores a whole message to find the service it talks about.

Texts are expected already normalised (the pipeline's ``ArabicNormaliser``); matching is
case-insensitive. The model is a JSON-serialisable ``dict`` (:meth:`to_json` /
:meth:`from_json`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_WORD = re.compile(r"\w+", re.UNICODE)
# Arabic proclitics (and/with/for + article) and the English plural, stripped for a second key.
_AR_PREFIXES = ("وبال", "وال", "بال", "فال", "كال", "لل", "ال", "و", "ب")
_GRAM = 4
_GRAM_WEIGHT = 0.5


def words(text: str) -> list[str]:
    """Lower-cased word tokens of ``text``."""
    return _WORD.findall(text.lower())


def keys(word: str) -> list[str]:
    """The lookup keys of one word: itself and its stem without a prefix / plural ``s``."""
    out = [word]
    for prefix in _AR_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            out.append(word[len(prefix) :])
            break
    if word.isascii() and len(word) > 3 and word.endswith("s"):
        out.append(word[:-1])
    return out


def grams(word: str) -> list[str]:
    """Character 4-grams of ``word`` padded with spaces."""
    padded = f" {word} "
    return [padded[i : i + _GRAM] for i in range(max(1, len(padded) - _GRAM + 1))]


def _normalised(votes: Counter[str]) -> dict[str, float]:
    total = sum(votes.values())
    return {code: n / total for code, n in votes.items()} if total else {}


@dataclass
class ServiceModel:
    """Word / char-gram votes for service codes (see the module docstring)."""

    codes: list[str] = field(default_factory=list)
    exact: dict[str, str] = field(default_factory=dict)
    # key -> (weight, {code: share})
    words: dict[str, tuple[float, dict[str, float]]] = field(default_factory=dict)
    grams: dict[str, tuple[float, dict[str, float]]] = field(default_factory=dict)

    # --- training ----------------------------------------------------------------------------

    @classmethod
    def train(
        cls,
        spans: Iterable[tuple[str, str]],
        synonyms: dict[str, str],
        other_texts: Iterable[str],
    ) -> ServiceModel:
        """Learns from ``(span text, code)`` pairs, synonyms (``surface -> value``; those whose
        value is one of the codes are used) and the text of every training example with its
        service spans cut out (``other_texts``: for the inside/outside weighting)."""
        pairs = [(s.lower().strip(), c) for s, c in spans if s.strip()]
        codes = {c for _, c in pairs}
        pairs += [(s.lower().strip(), v) for s, v in synonyms.items() if v in codes and s.strip()]
        codes.update(c for c in {c for _, c in pairs})
        inside_w: dict[str, Counter[str]] = defaultdict(Counter)
        inside_g: dict[str, Counter[str]] = defaultdict(Counter)
        exact: dict[str, str] = {}
        for span, code in pairs:
            exact.setdefault(span, code)
            for word in set(words(span)):
                for key in keys(word):
                    inside_w[key][code] += 1
                for gram in set(grams(word)):
                    inside_g[gram][code] += 1
        outside_w: Counter[str] = Counter()
        outside_g: Counter[str] = Counter()
        for text in other_texts:
            for word in set(words(text)):
                for key in keys(word):
                    outside_w[key] += 1
                for gram in set(grams(word)):
                    outside_g[gram] += 1
        return cls(
            codes=sorted(codes),
            exact=exact,
            words=_table(inside_w, outside_w),
            grams=_table(inside_g, outside_g),
        )

    # --- prediction ---------------------------------------------------------------------------

    def scores(self, text: str) -> dict[str, float]:
        """Votes per code for ``text`` (sum over its words; unknown words vote by char grams)."""
        total: dict[str, float] = defaultdict(float)
        for word in words(text):
            entry = next((self.words[k] for k in keys(word) if k in self.words), None)
            if entry is not None:
                weight, shares = entry
                for code, share in shares.items():
                    total[code] += weight * share
                continue
            found = [self.grams[g] for g in grams(word) if g in self.grams]
            if not found:
                continue
            for weight, shares in found:
                for code, share in shares.items():
                    total[code] += _GRAM_WEIGHT * weight * share / len(found)
        return dict(total)

    def best(self, text: str) -> tuple[str | None, float]:
        """The best-voted code for ``text`` and its score (``None, 0.0`` without any vote)."""
        votes = self.scores(text)
        if not votes:
            return None, 0.0
        code = max(sorted(votes), key=lambda c: votes[c])
        return code, votes[code]

    def locate(self, text: str, code: str) -> tuple[int, int] | None:
        """The character span in ``text`` from the first to the last word voting for ``code``
        with at least half the weight of the strongest such word."""
        found: list[tuple[int, int, float]] = []
        for match in _WORD.finditer(text):
            votes = self.scores(match.group(0))
            if votes.get(code, 0.0) > 0.0:
                found.append((match.start(), match.end(), votes[code]))
        if not found:
            return None
        top = max(v for _, _, v in found)
        strong = [(s, e) for s, e, v in found if v >= top / 2]
        return strong[0][0], strong[-1][1]

    def resolve(self, value: str, threshold: float) -> str | None:
        """The code of an extracted span: itself if it is a code, a known surface form's code,
        else the best-voted code when its score reaches ``threshold``."""
        key = value.lower().strip()
        if key in self.codes:
            return key
        if key in self.exact:
            return self.exact[key]
        code, score = self.best(key)
        return code if score >= threshold else None

    def detect(self, text: str, threshold: float) -> str | None:
        """The service a whole message talks about, when its score reaches ``threshold``."""
        code, score = self.best(text)
        return code if score >= threshold else None

    # --- persistence --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form of the model."""
        return {
            "codes": self.codes,
            "exact": self.exact,
            "words": {k: [w, s] for k, (w, s) in self.words.items()},
            "grams": {k: [w, s] for k, (w, s) in self.grams.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceModel:
        """The model :meth:`to_json` wrote."""
        return cls(
            codes=list(data["codes"]),
            exact=dict(data["exact"]),
            words={k: (float(w), dict(s)) for k, (w, s) in data["words"].items()},
            grams={k: (float(w), dict(s)) for k, (w, s) in data["grams"].items()},
        )


def _table(
    inside: dict[str, Counter[str]], outside: Counter[str]
) -> dict[str, tuple[float, dict[str, float]]]:
    table: dict[str, tuple[float, dict[str, float]]] = {}
    for key, votes in inside.items():
        n_in = sum(votes.values())
        weight = n_in / (n_in + outside[key] + 1.0)
        table[key] = (weight, _normalised(votes))
    return table
