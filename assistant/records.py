"""What the assistant returns. `to_dict` gives the stable JSON contract of the CLI and the web page."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .reading import Reading
    from .safety import SafetyNotice

SCORE_DIGITS = 6


def _exported(record, *scores: str, drop: tuple[str, ...] = ()) -> dict:
    """A dataclass as a JSON-ready dict, scores rounded so that outputs compare line by line."""
    data = asdict(record)
    for key in drop:
        data.pop(key)
    for key in scores:
        data[key] = round(data[key], SCORE_DIGITS)
    return data


_NUMBERS = ["No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"]


def count_word(n: int) -> str:
    """"Three" for 3; digits past ten."""
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


@dataclass(frozen=True)
class Hit:
    """A retrieved passage and why it ranks where it does."""

    rank: int
    chunk_id: str
    article_id: str
    title: str
    section: str
    text: str
    start: int
    end: int
    score: float  # fused score of the dense and keyword rankings, plus the weighted phrase score
    dense_score: float  # cosine similarity of question and passage
    dense_rank: int | None  # 1-based; None when not among the candidates read
    keyword_score: float
    keyword_rank: int | None
    phrase_score: float = 0.0  # share of the question's word pairs the passage holds (index/phrases.py)
    late_score: float = 0.0  # word-by-word (MaxSim) score of question and passage (index/late.py)
    late_rank: int | None = None  # 1-based among the candidates; None when late interaction is off
    row: int = field(default=-1, repr=False, compare=False)  # position in the index, not exported

    def to_dict(self) -> dict:
        return _exported(self, "score", "dense_score", "keyword_score", "phrase_score", "late_score", drop=("row",))


@dataclass(frozen=True)
class Citation:
    """A verbatim quote: `quote == article.text[start:end]`."""

    n: int
    article_id: str
    title: str
    publisher: str
    section: str
    quote: str
    start: int
    end: int
    score: float
    url: str | None = None

    def to_dict(self) -> dict:
        return _exported(self, "score")


@dataclass(frozen=True)
class Nearby:
    """A section the articles have near a question they don't answer: where to read on."""

    article_id: str
    title: str
    publisher: str
    section: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    question: str
    abstained: bool
    answer: str
    citations: list[Citation]
    passages: list[Hit]
    relevance: float  # the best similarity found; below the threshold the assistant declines
    # Declined because the question asks for an amount that none of the quotes states: declined
    # whatever the thresholds (calibration counts it so); not part of the JSON record.
    missing_amount: bool = False
    # Set when the question discloses danger: the notice the answer opens with (assistant/safety).
    safety: "SafetyNotice | None" = None
    # When declined near the articles' topic: the sections they have near the question.
    nearby: list[Nearby] = field(default_factory=list)
    # How the question was read (assistant/reading): its kind, article, topic, the turn it follows.
    reading: "Reading | None" = None
    # For a question about one article that it doesn't cover: the articles that do.
    covered_by: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """"advice" | "article" | "across" | "summary" | "follow_up" | "declined"."""
        if self.reading is not None and self.reading.follow_up:
            return "follow_up"
        kind = self.reading.kind if self.reading is not None else "advice"
        if self.abstained and kind in ("advice", "across"):
            return "declined"
        return kind

    def to_dict(self) -> dict:
        reading = self.reading
        return {
            "kind": self.kind,
            # Which article the answer was limited to, and the topic it was read as about.
            "article_filter": reading.article_id if reading is not None else None,
            "topic": reading.topic if reading is not None else None,
            "reading": reading.to_dict() if reading is not None else None,
            "covered_by": list(self.covered_by),
            "question": self.question,
            "abstained": self.abstained,
            "answer": self.answer,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "relevance": round(self.relevance, SCORE_DIGITS),
            "safety": self.safety.to_dict() if self.safety is not None else None,
            "nearby": [n.to_dict() for n in self.nearby],
        }


@dataclass(frozen=True)
class Mention:
    quote: str
    section: str
    start: int
    end: int
    score: float

    def to_dict(self) -> dict:
        return _exported(self, "score")


@dataclass(frozen=True)
class ArticleMentions:
    article_id: str
    title: str
    publisher: str
    mentions: list[Mention]

    def to_dict(self) -> dict:
        return {"article_id": self.article_id, "title": self.title, "publisher": self.publisher,
                "mentions": [m.to_dict() for m in self.mentions]}


@dataclass(frozen=True)
class LookupResult:
    topic: str
    articles: list[ArticleMentions]
    not_covered: list[str]
    safety: "SafetyNotice | None" = None  # the topic discloses danger (assistant/safety)

    @property
    def lead(self) -> str:
        """How many of the articles looked in speak to the topic: the one count that `lookup`
        and every answer across the articles give."""
        found, searched = len(self.articles), len(self.articles) + len(self.not_covered)
        topic = f"“{self.topic}”"
        if searched == 1:
            return f"The article speaks to {topic}." if found else f"The article doesn't speak to {topic}."
        if found == 0:
            return f"None of the {count_word(searched).lower()} articles speaks to {topic}."
        if found == searched:
            return f"All {count_word(found).lower()} articles speak to {topic}."
        verb = "speaks" if found == 1 else "speak"
        return f"{count_word(found)} of the {count_word(searched).lower()} articles {verb} to {topic}."

    def to_dict(self) -> dict:
        return {"topic": self.topic, "lead": self.lead, "articles": [a.to_dict() for a in self.articles],
                "not_covered": self.not_covered,
                "safety": self.safety.to_dict() if self.safety is not None else None}
