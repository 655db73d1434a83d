"""Recognise a question that discloses or asks about danger: patterns first, then the classifier.

A concern is raised when a vetted pattern matches a sentence literally (not negated, not an
idiom) and the classifier does not veto it (some concern scores at least its pattern floor; a
pattern whose words name the abuse, such as "domestic violence", is never vetoed), or
when the classifier's score for it reaches its threshold. The classifier is fine-tuned
from the model of the embedder the assistant already holds (the bundled MiniLM) and shares its
word embeddings; with another embedder (the tests' fake one) it is left out and the patterns alone
decide.
"""

from __future__ import annotations

import functools
import threading

from . import patterns
from .classifier import OnnxSafetyModel, SafetyModel
from .records import CONCERNS, Assessment, Evidence

SCORES_CACHED = 128  # texts whose classifier scores are kept: a conversation's replayed questions


class Detector:
    """`assess(question)` -> `Assessment`. The classifier reads the question's units in one batch
    (tens of milliseconds on 2 cores); it is used only with the bundled MiniLM it was tuned from."""

    def __init__(self, embedder=None, *, model: SafetyModel | None = None, use_classifier: bool = True) -> None:
        self.embedder = embedder
        self.model = model
        self._loaded = model is not None or not use_classifier or embedder is None
        self._lock = threading.Lock()
        # `/ask` with a conversation replays its earlier questions: each is scored once, not at
        # every turn (the classifier is most of an answer's time). Small enough that questions
        # which don't come back (a benchmark cycling through a test set) are never served from it.
        self._scores_of = functools.lru_cache(maxsize=SCORES_CACHED)(self._score)

    def _classifier(self) -> SafetyModel | None:
        """The classifier over the embedder's model, loaded on first use (None for another embedder)."""
        with self._lock:
            if not self._loaded:
                self._loaded = True
                load = getattr(self.embedder, "load", None)
                exported = getattr(self.embedder, "exported", None)  # the ONNX path: its export, no torch
                if SafetyModel.read_meta()["model_id"] == getattr(self.embedder, "model_id", None):
                    if exported is not None and "safety" in exported.models:
                        self.model = OnnxSafetyModel.open(exported)
                    elif callable(load):
                        self.model = SafetyModel.load(load())
            return self.model

    @property
    def uses_classifier(self) -> bool:
        return self._classifier() is not None

    def _score(self, text: str) -> dict[str, float]:
        model = self._classifier()
        return model.scores(text) if model is not None else {}

    def scores(self, text: str) -> dict[str, float]:
        """The classifier's score per concern (empty without the classifier)."""
        return dict(self._scores_of(text))

    def assess(self, text: str) -> Assessment:
        scores = self.scores(text)
        found = patterns.counted(patterns.match(text), scores, self.model.pattern_floor if scores else 0.0)
        evidence = [Evidence(m.pattern.concern, f"pattern:{m.pattern.name}", m.matched) for m in found]
        for concern, score in scores.items():
            if score >= self.model.thresholds[concern]:
                evidence.append(Evidence(concern, "classifier", "", score))
        # What a pattern found leads (most urgent first); what only the classifier raised follows,
        # most probable first: "my boyfriend hits me" is abuse even if the classifier also leans
        # towards harm to others.
        literal = {e.concern for e in evidence if e.means.startswith("pattern:")}
        learned = {e.concern for e in evidence if e.means == "classifier"} - literal
        concerns = tuple(c for c in CONCERNS if c in literal) + tuple(sorted(learned, key=lambda c: -scores[c]))
        return Assessment(concerns, scores, tuple(evidence))
