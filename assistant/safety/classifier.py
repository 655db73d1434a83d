"""A small classifier on MiniLM sentence vectors: one logistic regression per concern.

A question is read as units: each sentence, each pair of neighbouring sentences, and the whole
text. A concern's score is the highest probability any unit gets, so one disclosing sentence in a
long story counts as much as a short question. The weights (4 x 384 numbers) live in
`model.json` beside this file, with the data they were trained on (its hash), the model whose
vectors they read, the thresholds and the figures measured when they were trained;
`python -m assistant.safety.train` rebuilds it from `assistant/evaluation/safety.jsonl`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .patterns import FIGURATIVE, NEGATOR, NOT_DISCLOSURE, normalise, sentences
from .records import CONCERNS

MODEL_PATH = Path(__file__).with_name("model.json")
MAX_UNIT_CHARS = 1200  # the whole text as one unit, cut here (MiniLM reads 256 tokens)


class SafetyModelError(Exception):
    """The classifier's weights can't be read; the message says which file and why."""


def units(text: str) -> list[str]:
    """What a question is read as: its sentences, neighbouring pairs, and the whole (cut)."""
    parts = sentences(text)
    found = list(parts)
    found += [f"{a} {b}" for a, b in zip(parts, parts[1:])]
    whole = " ".join(parts)[:MAX_UNIT_CHARS]
    if len(parts) > 2:
        found.append(whole)
    return list(dict.fromkeys(u for u in found if u)) or [whole or ""]


# Beside the sentence vector, what a linear model can't read from it: whether the unit negates
# ("he has never hit me"), uses an idiom ("we hit a rough patch"), or reports a film or a joke.
FEATURES = ("negation", "idiom", "not_disclosure")


def unit_features(texts: list[str]) -> np.ndarray:
    rows = []
    for text in texts:
        t = normalise(text)
        rows.append([float(bool(NEGATOR.search(t))), float(bool(FIGURATIVE.search(t))),
                     float(bool(NOT_DISCLOSURE.search(t)))])
    return np.asarray(rows, dtype=np.float32).reshape(len(texts), len(FEATURES))


def featurise(texts: list[str], vectors: np.ndarray) -> np.ndarray:
    """The classifier's input: each unit's sentence vector and its FEATURES."""
    return np.hstack([np.asarray(vectors, dtype=np.float32), unit_features(texts)])


@dataclass
class SafetyModel:
    """Logistic-regression weights per concern over unit vectors of `model_id`."""

    model_id: str
    concerns: tuple[str, ...]
    coef: np.ndarray  # (concerns, dimension + len(FEATURES))
    intercept: np.ndarray  # (concerns,)
    thresholds: dict[str, float]
    meta: dict = field(default_factory=dict)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(units, concerns) probabilities from `featurise`d units."""
        logits = features @ self.coef.T + self.intercept
        return 1.0 / (1.0 + np.exp(-logits))

    def scores(self, features: np.ndarray) -> dict[str, float]:
        """Each concern's score for one question: its best unit's probability."""
        if not len(features):
            return {c: 0.0 for c in self.concerns}
        best = self.probabilities(features).max(axis=0)
        return {c: float(p) for c, p in zip(self.concerns, best)}

    def to_dict(self) -> dict:
        return {"model_id": self.model_id, "concerns": list(self.concerns),
                "coef": [[round(float(x), 6) for x in row] for row in self.coef],
                "intercept": [round(float(x), 6) for x in self.intercept],
                "thresholds": self.thresholds, **self.meta}

    def save(self, path: Path = MODEL_PATH) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "SafetyModel":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            concerns = tuple(data["concerns"])
            coef = np.asarray(data["coef"], dtype=np.float32)
            intercept = np.asarray(data["intercept"], dtype=np.float32)
            thresholds = {c: float(data["thresholds"][c]) for c in concerns}
        except FileNotFoundError as exc:
            raise SafetyModelError(f"no safety classifier at {path}: rebuild it with "
                                   "`python -m assistant.safety.train`") from exc
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise SafetyModelError(f"the safety classifier at {path} is damaged ({exc}): rebuild it with "
                                   "`python -m assistant.safety.train`") from exc
        if coef.ndim != 2 or coef.shape[0] != len(concerns) or intercept.shape != (len(concerns),):
            raise SafetyModelError(f"the safety classifier at {path} has weights of shape {coef.shape} for "
                                   f"{len(concerns)} concerns: rebuild it")
        unknown = set(concerns) - set(CONCERNS)
        if unknown:
            raise SafetyModelError(f"the safety classifier at {path} names unknown concerns {sorted(unknown)}")
        meta = {k: v for k, v in data.items() if k not in ("model_id", "concerns", "coef", "intercept", "thresholds")}
        return cls(data["model_id"], concerns, coef, intercept, thresholds, meta)
