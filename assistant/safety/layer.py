"""The safety layer every answer passes through: read the question, and when it discloses danger,
open the answer with a notice and keep only the quotes that are safe after it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .detector import Detector
from .policy import safe_quotes
from .records import Assessment, SafetyNotice
from ..settings import country_setting
from .resources import ResourceBook, load_resources, resources_path

SAFE_QUOTES_LEAD = "What the articles say about seeking professional help:"


class SafetyLayer:
    def __init__(self, detector: Detector, book: ResourceBook, *, country: str | None = None) -> None:
        self.detector = detector
        self.book = book
        self.country = country_setting(country)

    @classmethod
    def open(cls, embedder=None, *, corpus: Path | None = None, country: str | None = None) -> "SafetyLayer":
        """The detector over `embedder`'s vectors, the resources of the deployment (see resources.py)."""
        return cls(Detector(embedder), load_resources(resources_path(corpus)), country=country)

    def assess(self, text: str) -> Assessment:
        return self.detector.assess(text)

    def notice(self, assessment: Assessment) -> SafetyNotice | None:
        return self.book.notice(assessment.concerns, self.country) if assessment.flagged else None

    def guard(self, answer, assessment: Assessment):
        """`answer` (an `Answer`) as it may be given after a disclosure: the notice first, then at
        most the quotes about seeking professional help, renumbered."""
        notice = self.notice(assessment)
        if notice is None:
            return answer
        kept = [replace(c, n=n) for n, c in enumerate(safe_quotes(assessment.concerns, list(answer.citations)), 1)]
        parts = [notice.text()]
        if kept:
            parts.append(SAFE_QUOTES_LEAD)
            parts += [f"“{c.quote}” [{c.n}]" for c in kept]
        return replace(answer, abstained=not kept, answer="\n\n".join(parts), citations=kept, safety=notice,
                       missing_amount=False)

    def guard_lookup(self, result, assessment: Assessment):
        """A topic lookup whose topic is a disclosure: the notice, and only mentions that are safe."""
        notice = self.notice(assessment)
        if notice is None:
            return result
        articles = []
        for found in result.articles:
            mentions = safe_quotes(assessment.concerns, list(found.mentions))
            if mentions:
                articles.append(replace(found, mentions=mentions))
        return replace(result, articles=articles, safety=notice)
