"""What the web page shows, as HTML or Markdown strings. Pure functions, tested without a browser.

Every piece of corpus or user text goes through `html.escape` (or `as_text` for Markdown) before it
reaches the page: nothing in an article or a question is interpreted as markup or script.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from index import CorpusIndex
from ingest import Article

from ..compose import NEAR_MISS, format_source
from ..records import Answer, Citation, Hit, LookupResult
from ..safety import SafetyNotice

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")
esc = html.escape

CSS = """
.closer-passage {border-left: 3px solid #c7d2fe; padding: 6px 10px; margin: 6px 0 12px 0;
                 white-space: pre-wrap; line-height: 1.5}
.closer-passage mark {background: #fde68a; color: inherit; padding: 0 1px}
.closer-source {font-weight: 600; margin-top: 10px}
.closer-safety {background: #eef6f3; border-left: 4px solid #5b9a84; border-radius: 6px; color: #1f3b33;
                padding: 10px 14px; margin: 0 0 12px 0; line-height: 1.5}
.closer-safety ul {margin: 6px 0 0 0; padding-left: 18px}
.closer-safety .closer-safety-title {font-weight: 600; margin-bottom: 4px}
.closer-declined {display: inline-block; background: #fee2e2; color: #991b1b; border-radius: 4px;
                  padding: 2px 8px; font-weight: 600; margin-bottom: 6px}
.closer-declined::before {content: "!"; display: inline-block; width: 1.1em; height: 1.1em; line-height: 1.1em;
                          margin-right: 6px; border-radius: 50%; background: #991b1b; color: #fff;
                          text-align: center; font-size: 0.8em; font-weight: 700}
.closer-ranks {display: inline; margin-left: 6px}
.closer-ranks summary {display: inline; cursor: pointer; text-decoration: underline dotted}
.closer-count {font-weight: 600; margin: 4px 0 10px 0}
.closer-muted {color: #6b7280}
.closer-why {color: #6b7280; font-size: 0.85em; margin: -2px 0 4px 0}
.closer-table table, .closer-table td, .closer-table th, .closer-table .cell-wrap {font-family: var(--font)}
.closer-table td, .closer-table td .cell-wrap {white-space: normal; overflow-wrap: anywhere}
.closer-article h2, .closer-article h3, .closer-article h4 {margin-bottom: 2px}
.closer-article p {white-space: pre-wrap; margin-top: 2px}
.closer-article .closer-promo {color: #4b5563; background: #f3f4f6; border-bottom: 1px dotted #9ca3af}
"""


def as_text(value: str) -> str:
    """Corpus or user text for a Markdown component: HTML escaped, Markdown markup neutralised."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(value, quote=False))


DECLINED_MARK = "Not covered"  # drawn with a CSS icon: no emoji font needed
SAFETY_TITLE = "Your safety comes first"


def safety_html(notice: SafetyNotice) -> str:
    """The safety notice as a calm block (not an error style): the message, then where to find help."""
    items = "".join(f"<li><b>{esc(r.name)}</b>: {esc(r.contact)}</li>" for r in notice.resources)
    return (f"<div class='closer-safety' data-concern='{esc(notice.concern, quote=True)}'>"
            f"<div class='closer-safety-title'>{esc(SAFETY_TITLE)}</div>"
            f"<div>{esc(notice.message)}</div><ul>{items}</ul></div>")


def chat_message(answer: Answer) -> str:
    """The assistant's turn in the chat (Markdown): the answer, with a visible mark when declined.
    After a disclosure of danger, the safety notice comes first, then only what may follow it."""
    if answer.safety is not None:
        parts = [safety_html(answer.safety)]
        if answer.citations:
            notice_text = answer.safety.text()
            rest = answer.answer[len(notice_text):].strip() if answer.answer.startswith(notice_text) else ""
            parts += [as_text(p) for p in rest.split("\n\n") if p.strip()]
        return "\n\n".join(parts)
    paragraphs = [as_text(p) for p in answer.answer.split("\n\n")]
    if answer.abstained:
        paragraphs.insert(0, f"<span class='closer-declined'>{DECLINED_MARK}</span>")
    return "\n\n".join(paragraphs)


def passage_span(index: CorpusIndex, article_id: str, start: int, end: int) -> tuple[int, int]:
    """The passage (chunk) around a quote; its section when the quote crosses passages."""
    for chunk in index.chunks:
        if chunk.article_id == article_id and chunk.start <= start and end <= chunk.end:
            return chunk.start, chunk.end
    article = index.articles[article_id]
    section = article.section_at(start)
    if section is not None and section.start <= start and end <= section.end:
        return section.start, section.end
    return start, end


def marked(text: str, base: int, spans: Iterable[tuple[int, int]]) -> str:
    """`text` (which starts at offset `base` of its article) escaped, each span inside <mark>."""
    out, position = [], 0
    for start, end in sorted((max(s - base, 0), min(e - base, len(text))) for s, e in spans):
        if start < position or start >= end:
            continue
        out += [esc(text[position:start]), "<mark>", esc(text[start:end]), "</mark>"]
        position = end
    out.append(esc(text[position:]))
    return "".join(out)


def _rank_words(rank: int | None, ranking: str) -> str:
    return f"{ranking} rank {rank}" if rank else f"not among the {ranking} ranking's candidates"


def why_ranks(hit: Hit) -> str:
    """Where each ranking put a passage and its fused score, for those who want them (the
    `passages` of `closer ask --json` carry the same figures)."""
    parts = [f"ranked {hit.rank}", _rank_words(hit.dense_rank, "meaning"), _rank_words(hit.keyword_rank, "keyword")]
    if hit.late_rank is not None:
        parts.append(f"word-by-word rank {hit.late_rank}")
    if hit.phrase_score:
        parts.append(f"{hit.phrase_score:.0%} of the question's word pairs")
    parts.append(f"score {hit.score:.2f}")
    return " · ".join(parts)


def shared_words(question: str, passage: str, limit: int = 4) -> list[str]:
    """The question's own words whose stem the passage holds ("trust", "betrayal"), in question order."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    from index import tokenize

    first: dict[str, str] = {}  # each word once, as first spelt, in question order
    for word in re.findall(r"[A-Za-z][A-Za-z’'-]{2,}", question):
        if word.casefold() not in STOPWORDS_EN_PLUS:
            first.setdefault(word.casefold(), word)
    words = list(first.values())
    stems = tokenize(words + [passage]) if words else []
    held = set(stems[-1]) if stems else set()
    return [w for w, s in zip(words, stems[:-1]) if s and s[0] in held][:limit]


def why_passage(hit: Hit, question: str = "") -> str:
    """Why a passage was chosen, in plain words: the question's words it holds and how close in
    meaning it is."""
    parts = []
    words = shared_words(question, hit.text) if question else []
    if words:
        parts.append("it uses your words " + ", ".join(f"“{w}”" for w in words))
    if hit.dense_rank is not None and hit.dense_rank <= 3:
        parts.append("it is among the passages closest in meaning to your question")
    elif hit.dense_rank is not None:
        parts.append("it is close in meaning to your question")
    elif not words:
        parts.append("its words match your question's")
    return "Why this passage: " + "; ".join(parts) + "."


def _hit_of(citation: Citation, hits: list[Hit]) -> Hit | None:
    """The retrieved passage a quote was taken from."""
    return next((h for h in hits if h.article_id == citation.article_id and h.start <= citation.start
                 and citation.end <= h.end), None)


def _citation_card(index: CorpusIndex, citation: Citation, hit: Hit | None = None, question: str = "") -> str:
    article = index.articles[citation.article_id]
    start, end = passage_span(index, citation.article_id, citation.start, citation.end)
    passage = marked(article.text[start:end], start, [(citation.start, citation.end)])
    why = ""
    if hit is not None:  # in plain words, the ranks behind a toggle
        why = (f"<div class='closer-why'>{esc(why_passage(hit, question))}"
               f"<details class='closer-ranks'><summary>Ranks</summary>{esc(why_ranks(hit))}</details></div>")
    return (f"<div class='closer-source' data-n='{citation.n}'>{esc(format_source(citation))}</div>"
            f"{why}<div class='closer-passage'>{passage}</div>")


def sources_html(answer: Answer | None, index: CorpusIndex | None) -> str:
    """The sources panel: each cited passage with the quoted sentence highlighted inside it."""
    if answer is None or index is None:
        return "<p class='closer-muted'>Ask a question: the passages behind the answer appear here.</p>"
    if answer.safety is not None:  # the notice, and only the quotes that may follow it: no adverts
        cards = "".join(_citation_card(index, c, _hit_of(c, answer.passages), answer.question)
                        for c in answer.citations)
        return safety_html(answer.safety) + (cards or "<p class='closer-muted'>Nothing from the articles is quoted "
                                                      "here: they are not the help this needs.</p>")
    if not answer.citations:
        return (f"<div class='closer-declined'>{esc(DECLINED_MARK)}</div>"
                "<p>No passage is close enough to the question; nothing is quoted.</p>")
    head = ""
    if answer.abstained:
        head = f"<div class='closer-declined'>{esc(DECLINED_MARK)}</div><p>{esc(NEAR_MISS)}</p>"
        if answer.nearby:
            items = "".join(f"<li>“{esc(n.section)}” <span class='closer-muted'>({esc(n.title)})</span></li>"
                            for n in answer.nearby)
            head += (f"<p class='closer-nearby'>Near it, the articles cover:</p>"
                     f"<ul class='closer-nearby'>{items}</ul>")
    return head + "".join(_citation_card(index, c, _hit_of(c, answer.passages), answer.question) for c in answer.citations)


def lookup_html(result: LookupResult, index: CorpusIndex) -> str:
    """A topic's passages: per article (in corpus order), per section, each passage shown once with
    every sentence about the topic marked in it."""
    grouped = []  # (found, {section: {passage span: [sentence spans]}})
    for found in result.articles:
        sections: dict[str, dict[tuple[int, int], list[tuple[int, int]]]] = {}
        for mention in found.mentions:
            span = passage_span(index, found.article_id, mention.start, mention.end)
            sections.setdefault(mention.section, {}).setdefault(span, []).append((mention.start, mention.end))
        grouped.append((found, sections))
    total = sum(len(p) for _, sections in grouped for p in sections.values())
    covering = len(grouped)
    parts = [safety_html(result.safety)] if result.safety is not None else []
    # The same count as `closer lookup` and the chat's answers across the articles (LookupResult.lead).
    parts += [f"<div class='closer-count'>{esc(result.lead)} {total} passage{'s' if total != 1 else ''} "
              f"in {covering} article{'s' if covering != 1 else ''}.</div>"]
    for found, sections in grouped:
        article = index.articles[found.article_id]
        count = sum(len(p) for p in sections.values())
        publisher = f" — {esc(found.publisher)}" if found.publisher else ""
        parts.append(f"<h3>{esc(found.title)}{publisher} <span class='closer-muted'>({count} passage"
                     f"{'s' if count != 1 else ''})</span></h3>")
        for section, passages in sections.items():
            parts.append(f"<h4>{esc(section or article.title)}</h4>")
            for (start, end), spans in passages.items():
                parts.append(f"<div class='closer-passage'>{marked(article.text[start:end], start, spans)}</div>")
    if result.not_covered:
        titles = ", ".join(esc(index.articles[a].title) for a in result.not_covered)
        parts.append(f"<p class='closer-not-covered'><b>Not covered</b> ({len(result.not_covered)}): {titles}</p>")
    return "".join(parts)


NO_PUBLISHER = "none yet (give one in articles.toml)"  # a user's file with no entry there


def article_rows(index: CorpusIndex) -> list[list]:
    """The corpus at a glance: one row per article."""
    chunks: dict[str, int] = {}
    for chunk in index.chunks:
        chunks[chunk.article_id] = chunks.get(chunk.article_id, 0) + 1
    return [[a.title, a.publisher or NO_PUBLISHER, len(a.sections), chunks.get(a.article_id, 0), a.source,
             a.article_id] for a in index.articles.values()]


PROMOTIONAL_TITLE = "Promotional text: kept here, never quoted as an answer"


def _with_promotional(article: Article, start: int, end: int) -> str:
    """article.text[start:end], stripped and escaped, its promotional sentences marked."""
    raw = article.text[start:end]
    start += len(raw) - len(raw.lstrip())
    end = start + len(raw.strip())
    text, out, position = article.text, [], start
    for s, e in article.promotional:
        if s < position or e > end:
            continue
        out += [esc(text[position:s]), f"<span class='closer-promo' title='{esc(PROMOTIONAL_TITLE, quote=True)}'>",
                esc(text[s:e]), "</span>"]
        position = e
    out.append(esc(text[position:end]))
    return "".join(out)


def article_html(article: Article) -> str:
    """An article to read, section by section (each section's own text, up to its first subsection);
    promotional sentences (adverts, biographies) are greyed and say that they are never quoted."""
    link = ""
    if article.url and article.url.startswith(("http://", "https://")):
        link = f" · <a href='{esc(article.url, quote=True)}' target='_blank' rel='noopener noreferrer'>original</a>"
    parts = [f"<div class='closer-article'><h2>{esc(article.title)}</h2>"
             f"<p class='closer-muted'>{esc(article.publisher or 'unknown publisher')}{link}</p>"]
    sections = sorted(article.sections, key=lambda s: (s.start, s.level))
    if not sections or sections[0].start > 0:
        first = sections[0].start if sections else len(article.text)
        if article.text[:first].strip():
            parts.append(f"<p>{_with_promotional(article, 0, first)}</p>")
    for i, section in enumerate(sections):
        end = sections[i + 1].start if i + 1 < len(sections) else len(article.text)
        body_start = section.start
        body = article.text[section.start:end]
        if body.lstrip().startswith(section.title):
            body_start += len(body) - len(body.lstrip()) + len(section.title)
        level = min(3 + max(section.level - 1, 0), 4)
        parts.append(f"<h{level}>{esc(section.title)}</h{level}>")
        if article.text[body_start:end].strip():
            parts.append(f"<p>{_with_promotional(article, body_start, end)}</p>")
    parts.append("</div>")
    return "".join(parts)


def images_html(figures: dict[str, bytes]) -> str:
    import base64

    return "".join(f"<img alt='{esc(name)}' style='max-width:48%;margin:0 1% 0 0' "
                   f"src='data:image/png;base64,{base64.b64encode(data).decode()}'>"
                   for name, data in figures.items())
