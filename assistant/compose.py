"""Choose the sentences that answer the question and compose an answer of verbatim quotes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from index import CorpusIndex
from ingest.loaders import BULLET_RE

from .amounts import states_amount
from .records import Citation, Hit, Nearby, count_word

DECLINE = "The articles don't cover this."
MAX_QUOTES = 3
QUOTE_MARGIN = 0.12  # a further quote must score within this of the best one
LIST_QUOTE_CHARS = 600  # how far a list's lead-in may carry its items into one quote
SHORT_PARAGRAPH_CHARS = 320  # a paragraph this short is one thought: quote it whole
MIN_QUOTE_CHARS = 25  # shorter sentences ("Try:") are not quoted on their own
# A sentence that opens like these leans on the one before ("In that case, …", "But suppose …",
# "Finally, …", "This can lead …", "These activities …"): it is quoted with what it depends on.
LEANS_BACK = re.compile(
    r"^[\s\"“‘'(]*(in that case|in this case|but|however|finally|lastly|also|additionally|in addition|moreover|"
    r"furthermore|instead|otherwise|then|so|thus|therefore|hence|as a result|as such|on the flip side|"
    r"on the other hand|similarly|likewise|even so|still|yet|and|or|plus|besides|that said|that['’]s (why|where|"
    r"how|when|what)|this|these|those|that|it|its|they|their|them|such|another|the other|both|either|neither|"
    r"for (example|instance)|because of (this|that))\b", re.IGNORECASE)
MAX_LEAN_BACK = 2  # sentences a quote may reach back for the thought it continues


def leans_back(sentence: str) -> bool:
    """True when `sentence` starts mid-thought and needs the sentence before it (a list marker
    is ignored)."""
    return bool(LEANS_BACK.match(BULLET_RE.sub("", sentence, count=1)))


# A quote this close in meaning (cosine of the mean of its sentences' vectors) to one already
# chosen says the same thing again, usually in another article's words: it is left out.
NEAR_DUPLICATE = 0.85


@dataclass
class _Candidate:
    hit: Hit
    position: int  # index of the sentence within its chunk
    start: int
    end: int
    similarity: float
    score: float


# How a sentence is scored as a quote: its own similarity to the question, its passage's (which
# carries the heading's context), and its passage's place in the fused ranking (1 for the first).
SENTENCE_WEIGHT = 0.6
PASSAGE_WEIGHT = 0.2
RANK_WEIGHT = 0.2
# For a question that asks for an amount ("How many minutes…?"), a sentence stating one is preferred.
# Chosen on the first half of XQuAD (0, 0.05, 0.1, 0.2 tried; 0.05 and 0.1 tie): benchmarks/README.md.
AMOUNT_BONUS = 0.05


def _candidates(index: CorpusIndex, query_vector: np.ndarray, hits: list[Hit], *,
                wants_amount: bool = False) -> list[_Candidate]:
    found = []
    for hit in hits:
        rank_score = 1.0 / hit.rank
        rows = index.sentence_rows(hit.row)
        if not len(rows):
            continue
        sims = index.sentence_vectors[rows.start:rows.stop] @ query_vector
        text = index.articles[hit.article_id].text
        promotional = index.sentence_promotional[rows.start:rows.stop]
        for position, ((start, end), sim) in enumerate(zip(index.chunks[hit.row].sentences, sims)):
            if promotional[position]:  # adverts, calls to action, biographies are never quoted
                continue
            # The passage's similarity carries its heading's context ("Can ... after betrayal?")
            # to sentences that answer it without repeating it ("Yes, ... is possible.").
            score = SENTENCE_WEIGHT * float(sim) + PASSAGE_WEIGHT * hit.dense_score + RANK_WEIGHT * rank_score
            if wants_amount and states_amount(text[start:end]):
                score += AMOUNT_BONUS
            found.append(_Candidate(hit, position, start, end, float(sim), score))
    return found


def relevance(index: CorpusIndex, query_vector: np.ndarray, hits: list[Hit]) -> float:
    """How well the best passage or sentence matches the question (cosine, -1..1)."""
    if not hits:
        return -1.0
    best = max(h.dense_score for h in hits)
    for hit in hits:  # the sentences that may be quoted (no advert's)
        rows = index.sentence_rows(hit.row)
        quotable = ~index.sentence_promotional[rows.start:rows.stop]
        if len(rows) and quotable.any():
            best = max(best, float((index.sentence_vectors[rows.start:rows.stop][quotable] @ query_vector).max()))
    return best


def _paragraph_of(text: str, sentences, position: int) -> tuple[int, int]:
    """First and last sentence positions of the paragraph (or list item) holding `position`."""
    first = position
    while first > 0 and "\n" not in text[sentences[first - 1][1]:sentences[first][0]]:
        first -= 1
    last = position
    while last + 1 < len(sentences) and "\n" not in text[sentences[last][1]:sentences[last + 1][0]]:
        last += 1
    return first, last


def _is_item(text: str, span: tuple[int, int]) -> bool:
    line_start = text.rfind("\n", 0, span[0]) + 1
    return bool(BULLET_RE.match(text[line_start:span[1]]))


def _list_lead_in(text: str, sentences, position: int) -> int | None:
    """The sentence ending in ':' that leads into the list holding item `position`, if any."""
    if not _is_item(text, sentences[position]):
        return None
    first = position
    while first > 0 and _is_item(text, sentences[first - 1]):
        first -= 1
    if first > 0 and text[sentences[first - 1][0]:sentences[first - 1][1]].rstrip().endswith(":"):
        return first - 1
    return None


def _previous_sentence_start(index: CorpusIndex, row: int) -> int | None:
    """Where the last sentence of the passage before `row` starts, when that passage is of the
    same article and section and the sentence stands alone (and sells nothing); else None."""
    chunk = index.chunks[row]
    if row == 0:
        return None
    before = index.chunks[row - 1]
    if before.article_id != chunk.article_id or before.section != chunk.section or not before.sentences:
        return None
    rows = index.sentence_rows(row - 1)
    s, e = before.sentences[-1]
    if index.sentence_promotional[rows.stop - 1] or leans_back(index.articles[chunk.article_id].text[s:e]):
        return None
    return s


def _extend_span(index: CorpusIndex, cand: _Candidate) -> tuple[int, int, set[int]] | None:
    """Grow a quote to finish its thought: a short paragraph is quoted whole ("Yes, ... is
    possible. It requires ..."), a sentence that leans on the one before takes it, and a lead-in
    ending in ':' takes the list items after it. None: the quote can't stand alone (it leans on
    text outside its passage, or on an advert)."""
    chunk = index.chunks[cand.hit.row]
    text = index.articles[chunk.article_id].text
    rows = index.sentence_rows(cand.hit.row)
    promotional = index.sentence_promotional[rows.start:rows.stop]
    first, last = _paragraph_of(text, chunk.sentences, cand.position)
    # A quote never grows into an advert ("… Our team is here to guide you.").
    while first < cand.position and promotional[first:cand.position].any():
        first += 1
    while last > cand.position and promotional[cand.position + 1:last + 1].any():
        last -= 1
    if chunk.sentences[last][1] - chunk.sentences[first][0] > SHORT_PARAGRAPH_CHARS:
        first = last = cand.position
    start, end = chunk.sentences[first][0], chunk.sentences[last][1]
    used = set(range(first, last + 1))
    lead = _list_lead_in(text, chunk.sentences, min(used))
    if lead is not None and chunk.sentences[lead][0] < start:
        # A list item is quoted with the lead-in that says what the list is ("Repair begins with:").
        start = chunk.sentences[lead][0]
        used |= set(range(lead, min(used)))
        for pos in range(max(used) + 1, len(chunk.sentences)):  # and the rest of the list
            s, e = chunk.sentences[pos]
            if not _is_item(text, (s, e)) or e - start > LIST_QUOTE_CHARS or promotional[pos]:
                break
            end = e
            used.add(pos)
    if text[start:end].rstrip().endswith(":"):
        for pos in range(max(used) + 1, len(chunk.sentences)):
            s, e = chunk.sentences[pos]
            if e - start > LIST_QUOTE_CHARS or promotional[pos]:
                break
            end = e
            used.add(pos)
    # A quote that starts mid-thought ("In that case, …", "This may include:") takes the sentences
    # it leans on, or is not given.
    first = min(used)
    for step in range(MAX_LEAN_BACK + 1):
        sentence_start, sentence_end = chunk.sentences[first]
        if not leans_back(text[sentence_start:sentence_end]):
            return min(start, sentence_start), end, used
        if step == MAX_LEAN_BACK or (first > 0 and promotional[first - 1]):
            return None
        if first == 0:  # the sentence before ends the passage before, in the same section
            before = _previous_sentence_start(index, cand.hit.row)
            return (before, end, used) if before is not None else None
        first -= 1
        used.add(first)
    return None


def select_quotes(index: CorpusIndex, query_vector: np.ndarray, hits: list[Hit], *,
                  max_quotes: int = MAX_QUOTES, wants_amount: bool = False,
                  avoid: Callable[[str], bool] | None = None, excluded=()) -> list[Citation]:
    """The best sentences of the retrieved passages, as citations numbered in answer order.

    Neighbouring chosen sentences of one passage become one quote; a quote is never repeated;
    a quote `avoid` is true of (the wrong advice for this asker, assistant/advice.py) is not given,
    nor one overlapping an `excluded` (article id, start, end) span (quoted earlier in a conversation).
    """
    floor = index.declining[0]
    candidates = sorted(_candidates(index, query_vector, hits, wants_amount=wants_amount), key=lambda c: -c.score)
    if excluded:  # "tell me more": the best of what was not quoted yet sets the margin
        candidates = [c for c in candidates if not any(
            a == c.hit.article_id and s < c.end and c.start < e for a, s, e in excluded)]
    if not candidates:
        return []
    best = candidates[0].score
    chosen: list[tuple[str, int, int, float, Hit]] = []  # (chunk_id, start, end, score, hit)
    taken: dict[str, set[int]] = {}
    seen_text: set[str] = set()
    thoughts: list[np.ndarray] = []  # the meaning of each chosen quote
    for cand in candidates:
        if len(chosen) >= max_quotes or cand.score < best - QUOTE_MARGIN:
            break
        if cand.similarity < floor or cand.position in taken.get(cand.hit.chunk_id, set()):
            continue
        span = _extend_span(index, cand)
        if span is None:
            continue
        start, end, used = span
        text = index.articles[cand.hit.article_id].text
        if end - start < MIN_QUOTE_CHARS or any(
                a == cand.hit.article_id and s < end and start < e for a, s, e in excluded):
            continue
        key = " ".join(text[start:end].split()).casefold()
        if key in seen_text or (avoid is not None and avoid(text[start:end])):
            continue
        rows = index.sentence_rows(cand.hit.row)
        vector = index.sentence_vectors[[rows.start + p for p in sorted(used)]].mean(axis=0)
        vector = vector / (np.linalg.norm(vector) or 1.0)
        if any(float(vector @ v) >= NEAR_DUPLICATE for v in thoughts):
            continue
        thoughts.append(vector)
        seen_text.add(key)
        taken.setdefault(cand.hit.chunk_id, set()).update(used)
        chosen.append((cand.hit.chunk_id, start, end, cand.score, cand.hit))
    chosen = _merge_adjacent(index, chosen)
    # Quotes are grouped by article (the article of the best quote first) and numbered in the
    # order a person reads them.
    best_of: dict[str, float] = {}
    for _, _, _, score, hit in chosen:
        best_of[hit.article_id] = max(best_of.get(hit.article_id, score), score)
    chosen.sort(key=lambda item: (-best_of[item[4].article_id], item[4].article_id, -item[3]))
    citations = []
    for n, (_, start, end, score, hit) in enumerate(chosen, start=1):
        article = index.articles[hit.article_id]
        citations.append(Citation(n=n, article_id=hit.article_id, title=article.title, publisher=article.publisher,
                                  section=hit.section, quote=article.text[start:end], start=start, end=end,
                                  score=score, url=article.url))
    return citations


def _merge_adjacent(index: CorpusIndex, chosen):
    """Join quotes of one passage that touch (only white space between them) into one."""
    merged: list = []
    for item in chosen:
        chunk_id, start, end, score, hit = item
        text = index.articles[hit.article_id].text
        for i, (cid, s, e, sc, h) in enumerate(merged):
            if cid != chunk_id:
                continue
            if not text[min(e, start):max(e, start)].strip() and e <= start:
                merged[i] = (cid, s, end, max(sc, score), h)
                break
            if not text[min(end, s):max(end, s)].strip() and end <= s:
                merged[i] = (cid, start, e, max(sc, score), h)
                break
        else:
            merged.append(item)
    return merged


NEAR_MISS = "The articles don't cover this directly; the closest passage is:"
def lead_line(citations: list[Citation], articles_searched: int) -> str:
    """How many of the articles searched speak to the question."""
    speaking = len({c.article_id for c in citations})
    if articles_searched == 1:
        return "The article speaks to this."
    if speaking == articles_searched:
        return f"All {count_word(speaking).lower()} articles speak to this."
    verb = "speaks" if speaking == 1 else "speak"
    return f"{count_word(speaking)} of the {count_word(articles_searched).lower()} articles {verb} to this."


def format_answer(citations: list[Citation], articles_searched: int = 0) -> str:
    """What a person reads: a lead line, then the quotes grouped by article, each quote in
    quotation marks followed by its citation marker."""
    if not citations:
        return DECLINE
    lines = [lead_line(citations, articles_searched)] if articles_searched else []
    current = None
    for c in citations:
        if c.article_id != current:
            current = c.article_id
            lines.append(f"{c.title} ({c.publisher}):" if c.publisher else f"{c.title}:")
        lines.append(f"“{c.quote}” [{c.n}]")
    return "\n\n".join(lines)


NEARBY = "Near it, the articles cover:"
MAX_NEARBY = 3


def nearby_sections(index: CorpusIndex, hits: list[Hit], limit: int = MAX_NEARBY) -> list[Nearby]:
    """The sections of the best passages, each once, in rank order: what the articles do cover
    near a question they don't answer."""
    found: dict[tuple[str, str], Nearby] = {}
    for hit in hits:
        key = (hit.article_id, hit.section)
        if key not in found and hit.section:
            article = index.articles[hit.article_id]
            found[key] = Nearby(hit.article_id, article.title, article.publisher, hit.section)
        if len(found) == limit:
            break
    return list(found.values())


def format_nearby(nearby: list[Nearby]) -> str:
    lines = [NEARBY] + [f"• “{n.section}” ({n.title}{', ' + n.publisher if n.publisher else ''})" for n in nearby]
    return "\n".join(lines)


def format_near_miss(citation: Citation, nearby: list[Nearby] | None = None) -> str:
    """The near-miss answer: it says plainly that the articles don't answer, offers the closest
    passage, and names the sections near the question."""
    text = f"{NEAR_MISS}\n\n“{citation.quote}” [{citation.n}]"
    return f"{text}\n\n{format_nearby(nearby)}" if nearby else text


def format_source(citation: Citation) -> str:
    parts = [citation.title]
    if citation.publisher:
        parts.append(citation.publisher)
    line = f"[{citation.n}] " + " — ".join(parts)
    if citation.section:
        line += f', section “{citation.section}”'
    return line
