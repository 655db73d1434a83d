"""Remove what scraping leaves behind, by general rules that hold across sites.

Each rule looks at the shape of a line and where it stands, never at a particular file:
navigation repeated on the page, comment forms, "Table of Contents", bylines, pricing lines,
image captions and site banners above the title.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace

from .records import Block

# Whole-line navigation and widget labels that are never prose.
NAVIGATION_RE = re.compile(
    r"^(?:search(?: on this (?:blog|site))?|skip to (?:main )?content|table of contents|contents|menu|"
    r"home|share(?: this(?: post| article)?)?:?|share on \w+|read more|previous post|next post|"
    r"subscribe(?: to our newsletter)?|follow us|back to top|print(?: this)?(?: article)?|"
    r"(?:posted in|filed under|tags?|categories)\s*:?.*)$",
    re.I,
)
# Lines that open the comment form or the list of other articles: the article is over.
TAIL_RE = re.compile(
    r"^(?:leave a (?:reply|comment)|post a comment|add a comment|\d+\s+comments?|comments|"
    r"more articles|related (?:posts|articles)|you (?:may|might) also like|recent posts|"
    r"popular posts|about the author)\s*:?$",
    re.I,
)
FORM_RE = re.compile(
    r"your email address will not be published|required fields are marked|"
    r"save my name, email|cancel reply|post comment",
    re.I,
)
BYLINE_RE = re.compile(r"^(?:by|posted by|written by|author:)\s+[\w.' -]{2,40}$", re.I)
PRICING_RE = re.compile(
    r"\b(?:all )?prices?\b.*\b(?:per|include|from|start)|\bfree trial\b|"
    r"[$£€]\s?\d+(?:[.,]\d\d)?\s*(?:/|per)\s*(?:month|mo|year|yr|week|session|couple)\b",
    re.I,
)
CAPTION_PREFIX_RE = re.compile(r"^(?:image|photo|picture|illustration)(?:\s+(?:by|credit))?\s*:", re.I)
CAPTION_SHAPE_RE = re.compile(r"^(?:a|an|two|three|the)\s+(?:\w+\s+){0,3}\w+ing\b", re.I)
TERMINAL_PUNCT = (".", "!", "?", ":", ";", ",", "…", "”", '"')
_SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


@dataclass
class CleanReport:
    """How many blocks each rule removed; shown in the ingest summary."""

    removed: Counter = field(default_factory=Counter)

    def add(self, rule: str, count: int = 1) -> None:
        if count:
            self.removed[rule] += count


def normalise_line(text: str) -> str:
    """NFC, one space between words, no stray edge spaces. Characters are otherwise kept as
    written (curly quotes, dashes) so that quotes stay verbatim."""
    return _SPACES_RE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _words(text: str) -> int:
    return len(text.split())


def _is_short_label(text: str) -> bool:
    return _words(text) <= 8 and len(text) <= 60 and not text.endswith(TERMINAL_PUNCT)


def clean_blocks(blocks: list[Block], *, title: str | None = None,
                 report: CleanReport | None = None) -> list[Block]:
    """Apply every cleaning rule and return the blocks that are article content."""
    report = report if report is not None else CleanReport()
    blocks = [replace(b, text=normalise_line(b.text)) for b in blocks]
    blocks = [b for b in blocks if b.text]

    # Navigation repeated on the page ("Search on this blog" twice) and running PDF headers.
    counts = Counter(b.text.casefold() for b in blocks if _is_short_label(b.text))
    repeated = {text for text, n in counts.items() if n >= 2}
    kept = []
    for b in blocks:
        if b.text.casefold() in repeated:
            report.add("repeated navigation")
        elif NAVIGATION_RE.match(b.text) and b.kind != "heading" or b.text.casefold() == "table of contents":
            report.add("navigation")
        elif FORM_RE.search(b.text) and _words(b.text) <= 25:
            report.add("comment form")
        elif BYLINE_RE.match(b.text):
            report.add("byline")
        elif PRICING_RE.search(b.text) and _words(b.text) <= 25 and b.text.count(". ") == 0:
            report.add("pricing")
        elif CAPTION_PREFIX_RE.match(b.text):
            report.add("image caption")
        else:
            kept.append(b)
    blocks = kept

    # The comment form or the "more articles" list ends the article: drop it and all after it,
    # when it stands in the second half (a heading called "Comments" early on is content).
    for i, b in enumerate(blocks):
        if TAIL_RE.match(b.text) and i >= len(blocks) // 2:
            report.add("comment form / related links", len(blocks) - i)
            blocks = blocks[:i]
            break

    # A lone name left at the very end is the author's byline ("admin").
    while blocks and _words(blocks[-1].text) <= 3 and not blocks[-1].text.endswith(TERMINAL_PUNCT) \
            and blocks[-1].kind != "item":
        report.add("lone author name")
        blocks = blocks[:-1]

    # Image captions: a short descriptive phrase ("A couple hugging closely") standing between
    # prose and the next heading, with no sentence punctuation.
    kept = []
    for i, b in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if (b.kind in (None, "paragraph") and _words(b.text) <= 10 and not b.text.endswith(TERMINAL_PUNCT)
                and CAPTION_SHAPE_RE.match(b.text) and (nxt is None or _is_short_label(nxt.text)
                                                        or nxt.text.endswith("?"))):
            report.add("image caption")
        else:
            kept.append(b)
    blocks = kept

    # A site banner above the title ("Remainly - Online Couples Therapy"): short lines before
    # the line that repeats the known title.
    if title:
        wanted = normalise_line(title).casefold()
        for i, b in enumerate(blocks[:4]):
            if b.text.casefold() == wanted:
                if i:
                    report.add("site banner", i)
                blocks = blocks[i:]
                break
    return blocks
