"""Sentence-aware chunking along sections and paragraphs, with exact offsets."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import asdict, dataclass
from itertools import groupby

from .loaders import BULLET_RE
from .records import Chunk
from .structure import Layout, PlacedBlock

# A sentence ends at . ! ? or … (and any closing quotes or brackets) followed by a space and
# something that can start a sentence.
_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])[\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "Dr.", "Mr.", "Mrs.", "Ms.", "St.", "Prof.", "No.", "Fig.")


@dataclass(frozen=True)
class ChunkSettings:
    """How text is cut into passages; stored in the index manifest."""

    max_chars: int = 800  # MiniLM reads 256 word pieces, about 1,000 characters of English
    strategy: str = "sections"  # "sections": along sections, paragraphs and sentences; "fixed": plain
    # windows of max_chars characters, blind to structure (the naive pipeline, kept as a peer);
    # "words": windows of max_words words overlapping by overlap_words (Haystack's DocumentSplitter
    # with split_by="word", kept as a peer)
    max_words: int = 120
    overlap_words: int = 20

    def to_dict(self) -> dict:
        return asdict(self)


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of `text[start:end]` (one block) as absolute spans, a list marker excluded."""
    marker = BULLET_RE.match(text[start:end])  # `^` does not anchor at a `pos` argument
    if marker:
        start += marker.end()
    spans = []
    cursor = start
    for m in _SENTENCE_END_RE.finditer(text, start, end):
        head = text[cursor:m.start()].rstrip()
        if head.endswith(_ABBREVIATIONS):
            continue
        spans.append((cursor, cursor + len(text[cursor:m.start()].rstrip())))
        cursor = m.end()
    if cursor < end:
        tail_end = cursor + len(text[cursor:end].rstrip())
        if tail_end > cursor:
            spans.append((cursor, tail_end))
    # Closing quotes and brackets belong to the sentence they close.
    fixed = []
    for s, e in spans:
        while e < end and text[e] in "\"”’')]":
            e += 1
        fixed.append((s, e))
    return fixed


def chunk_layout(article_id: str, layout: Layout, settings: ChunkSettings = ChunkSettings()) -> list[Chunk]:
    """Pack each section's paragraphs and list items into passages of at most `max_chars`.

    Chunks never cross a heading. A paragraph longer than the bound is cut between sentences;
    a list's lead-in ("Try:") is carried over to the next passage rather than left at the end.
    """
    if settings.strategy == "fixed":
        return _fixed_windows(article_id, layout, settings.max_chars)
    if settings.strategy == "words":
        return _word_windows(article_id, layout, settings.max_words, settings.overlap_words)
    text = layout.text
    body = [b for b in layout.blocks if b.kind not in ("title", "heading")]
    pieces: list[tuple[str, list[tuple[int, int]], int | None]] = []
    # Consecutive body blocks under the same heading form one run.
    heading_starts = [b.start for b in layout.blocks if b.kind == "heading"]
    # The number of headings before a block separates two sections that share a title.
    runs = groupby(enumerate(body), key=lambda ib: (ib[1].section, bisect_left(heading_starts, ib[1].start)))
    for (section, _), group in runs:
        units: list[tuple[int, int, list[tuple[int, int]], PlacedBlock]] = []
        for _, block in group:
            sents = sentence_spans(text, block.start, block.end)
            if block.end - block.start <= settings.max_chars:
                units.append((block.start, block.end, sents, block))
            else:
                units.extend(_split_long_block(block, sents, settings.max_chars))
        for chunk_units in _pack(units, text, settings.max_chars):
            start, end = chunk_units[0][0], chunk_units[-1][1]
            spans = [s for u in chunk_units for s in u[2]]
            pieces.append((section, [(start, end)] + spans, chunk_units[0][3].page))
    chunks = []
    for n, (section, spans, page) in enumerate(pieces):
        (start, end), sents = spans[0], spans[1:]
        chunks.append(Chunk(
            chunk_id=f"{article_id}:{n:03d}", article_id=article_id, section=section,
            start=start, end=end, text=text[start:end], sentences=tuple(sents), page=page,
        ))
    return chunks


def _split_long_block(block: PlacedBlock, sents: list[tuple[int, int]], max_chars: int):
    group: list[tuple[int, int]] = []
    for span in sents:
        if group and span[1] - group[0][0] > max_chars:
            yield (group[0][0], group[-1][1], group, block)
            group = []
        group.append(span)
    if group:
        yield (group[0][0], group[-1][1], group, block)


def _pack(units, text: str, max_chars: int):
    current: list = []
    for unit in units:
        if current and unit[1] - current[0][0] > max_chars:
            carry = []
            # Don't end a passage on a lead-in whose list follows.
            while len(current) > 1 and text[current[-1][0]:current[-1][1]].endswith(":"):
                carry.insert(0, current.pop())
            yield current
            current = carry
        current.append(unit)
    if current:
        yield current


def _fixed_windows(article_id: str, layout: Layout, size: int) -> list[Chunk]:
    """Consecutive windows of `size` characters over the whole text, headings included. Sentences
    are clipped to the window so that every quote stays an exact slice of the article."""
    return _windows(article_id, layout, [(start, min(start + size, len(layout.text)))
                                         for start in range(0, len(layout.text), size)])


def _word_windows(article_id: str, layout: Layout, size: int, overlap: int) -> list[Chunk]:
    """Windows of `size` words, each starting `size - overlap` words after the one before,
    over the whole text, headings included (as Haystack's DocumentSplitter cuts by words)."""
    words = [m.span() for m in re.finditer(r"\S+", layout.text)]
    step = max(1, size - overlap)
    spans = []
    for first in range(0, len(words), step):
        last = min(first + size, len(words)) - 1
        spans.append((words[first][0], words[last][1]))
        if last == len(words) - 1:
            break
    return _windows(article_id, layout, spans)


def _windows(article_id: str, layout: Layout, spans: list[tuple[int, int]]) -> list[Chunk]:
    text = layout.text
    sentences = [span for b in layout.blocks if b.kind not in ("title", "heading")
                 for span in sentence_spans(text, b.start, b.end)]
    section_of = {b.start: b.section for b in layout.blocks}
    starts = sorted(section_of)
    chunks = []
    for start, end in spans:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start >= end:
            continue
        inside = tuple((max(s, start), min(e, end)) for s, e in sentences if s < end and e > start)
        inside = tuple((s, e) for s, e in inside if text[s:e].strip() == text[s:e] and e > s)
        block_start = starts[max(0, bisect_left(starts, start + 1) - 1)]
        chunks.append(Chunk(chunk_id=f"{article_id}:{len(chunks):03d}", article_id=article_id,
                            section=section_of[block_start], start=start, end=end, text=text[start:end],
                            sentences=inside, page=None))
    return chunks
