"""Recognise a question that discloses or asks about danger: patterns first, then the classifier.

A concern is raised when a vetted pattern matches a sentence literally (not negated, not an
idiom), or when the classifier's score for it reaches its threshold. The classifier reads the
vectors of the embedder the assistant already holds; with another embedder (the tests' fake one)
it is left out and the patterns alone decide.
"""

from __future__ import annotations

import re

import numpy as np

from . import patterns
from .classifier import FEATURES, SafetyModel, SafetyModelError, featurise, units
from .records import CONCERNS, Assessment, Evidence

_ABOUT_OTHERS = re.compile(
    r"\b(?:my|our|a|her|his) (?:best )?(?:friend|friends|sister|brother|mom|mum|mother|dad|father|cousin|aunt|uncle|"
    r"niece|nephew|coworker|co-worker|colleague|roommate|neighbou?r|classmate|client|student|daughter|son)\b"
    r"|\b(?:my ex|an ex|past relationship|previous relationship|former partner|used to be|years ago|back then|"
    r"when i was (?:a )?(?:kid|child|little|young|teen|teenager|\d+))\b")


class Detector:
    """`assess(question)` -> `Assessment`. Cheap: one batch of the question's sentences through
    the embedder (a few milliseconds), only when the classifier is in use."""

    def __init__(self, embedder=None, *, model: SafetyModel | None = None, use_classifier: bool = True) -> None:
        self.embedder = embedder
        self.model = None
        if use_classifier and embedder is not None:
            try:
                model = model or SafetyModel.load()
            except SafetyModelError:
                model = None
            if model is not None and model.model_id == getattr(embedder, "model_id", None):
                self.model = model

    @property
    def uses_classifier(self) -> bool:
        return self.model is not None

    def scores(self, text: str) -> dict[str, float]:
        """The classifier's score per concern (empty without the classifier)."""
        if self.model is None:
            return {}
        parts = units(text)
        vectors = np.asarray(self.embedder.encode(parts), dtype=np.float32)
        if vectors.shape[1] + len(FEATURES) != self.model.coef.shape[1]:
            return {}
        return self.model.scores(featurise(parts, vectors))

    def assess(self, text: str) -> Assessment:
        evidence = [Evidence(m.pattern.concern, f"pattern:{m.pattern.name}", m.matched) for m in patterns.match(text)]
        scores = self.scores(text)
        if self.model is not None:
            for concern, score in scores.items():
                if score >= self.model.thresholds[concern]:
                    evidence.append(Evidence(concern, "classifier", "", score))
        # What a pattern found leads (most urgent first); what only the classifier raised follows,
        # most probable first: "my boyfriend hits me" is abuse even if the classifier also leans
        # towards harm to others.
        literal = {e.concern for e in evidence if e.means.startswith("pattern:")}
        learned = {e.concern for e in evidence if e.means == "classifier"} - literal
        concerns = tuple(c for c in CONCERNS if c in literal) + tuple(sorted(learned, key=lambda c: -scores[c]))
        about_others = bool(_ABOUT_OTHERS.search(patterns.normalise(text))) if concerns else False
        return Assessment(concerns, scores, tuple(evidence), about_someone_else=about_others)
