"""Loaders, the cleaner on the real articles, structure detection and chunk offsets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from ingest import (ChunkSettings, EmptyDocument, UnreadableFile, UnsupportedFileType, clean_blocks, ingest_file,
                    load_document, read_corpus, sentence_spans)
from ingest.records import Block
from tests.conftest import CORPUS, GUIDE, KMA, REMAINLY


def make_pdf(path: Path, pages: list[list[str]], title: str | None = None) -> Path:
    """A real PDF with a text layer (Helvetica), one list of lines a page."""
    writer = PdfWriter()
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                                 NameObject("/BaseFont"): NameObject("/Helvetica")})
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
        stream = DecodedStreamObject()
        stream.set_data(("BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET")
                        .encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
    if title:
        writer.add_metadata({"/Title": title})
    with open(path, "wb") as f:
        writer.write(f)
    return path


# -- loaders -------------------------------------------------------------------------------------

def test_plain_text_lines_become_blocks_and_bullets_items(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Title Here\n\nA paragraph of prose.\n  • first item\n  • second item\n", encoding="utf-8")
    blocks = load_document(path).blocks
    assert [b.text.strip() for b in blocks] == ["Title Here", "A paragraph of prose.", "• first item", "• second item"]
    assert [b.kind for b in blocks] == [None, None, "item", "item"]


def test_markdown_headings_lists_and_markup_removed(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Repair After Conflict\n\nSay **sorry** and [mean it](http://x).\n\n## Steps\n\n"
                    "- Listen first\n- Then speak\n", encoding="utf-8")
    article = ingest_file(path).article
    assert article.title == "Repair After Conflict"
    assert "Say sorry and mean it." in article.text
    assert "**" not in article.text and "http" not in article.text
    assert [s.title for s in article.sections] == ["Introduction", "Steps"]
    steps = article.sections[1]
    assert "Listen first\nThen speak" in article.text[steps.start:steps.end]


def test_html_keeps_prose_and_drops_scripts_navigation_and_forms(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("""<html><head><title>Site | Gratitude</title><script>var x = 1;</script></head><body>
      <nav><a href="/">Home</a><a href="/blog">Blog</a></nav>
      <h1>Gratitude in Marriage</h1><p>Saying thank you &amp; meaning it matters.</p>
      <h2>Small Thanks</h2><ul><li>Notice effort</li><li>Say it aloud</li></ul>
      <form>Leave a comment <input></form><footer>(c) 2024</footer></body></html>""", encoding="utf-8")
    article = ingest_file(path).article
    assert article.title == "Gratitude in Marriage"
    assert "Saying thank you & meaning it matters." in article.text
    for leftover in ("var x", "Home", "Blog", "Leave a comment", "(c) 2024"):
        assert leftover not in article.text
    assert [s.title for s in article.sections] == ["Introduction", "Small Thanks"]


def test_pdf_pages_are_read_wrapped_lines_joined_and_pages_kept(tmp_path):
    path = make_pdf(tmp_path / "trust.pdf", [
        ["Trust After Betrayal", "Rebuilding trust takes time and patience. Partners who",
         "keep small promises rebuild it faster.", "1"],
        ["Daily Rituals", "A short walk together each evening keeps couples close.", "2"],
    ], title="A PDF About Trust")
    item = ingest_file(path)
    article = item.article
    assert article.title == "A PDF About Trust"
    assert "Partners who keep small promises rebuild it faster." in article.text  # wrapped line joined
    assert [s.title for s in article.sections] == ["Trust After Betrayal", "Daily Rituals"]
    assert not re.search(r"^\d$", article.text, re.M)  # page numbers dropped
    walk = article.text.index("A short walk")
    assert article.page_at(walk) == 2 and article.page_at(article.text.index("Rebuilding")) == 1
    assert {c.page for c in item.chunks} == {1, 2}


def test_corrupt_pdf_binary_and_unsupported_files_raise_specific_errors(tmp_path):
    corrupt = tmp_path / "broken.pdf"
    corrupt.write_bytes(b"%PDF-1.4\n this is not really a pdf \x00\x01")
    with pytest.raises(UnreadableFile, match="broken.pdf"):
        load_document(corrupt)
    binary = tmp_path / "image.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UnreadableFile, match="binary"):
        load_document(binary)
    with pytest.raises(UnsupportedFileType, match=r"\.docx"):
        load_document(tmp_path / "letter.docx")
    empty = tmp_path / "empty.md"
    empty.write_text("   \n\n", encoding="utf-8")
    with pytest.raises(EmptyDocument):
        load_document(empty)


# -- the cleaner on the real articles --------------------------------------------------------------

LEFTOVERS = [
    r"Search on this blog", r"Leave a Reply", r"Required fields are marked", r"will not be published",
    r"Table of Contents", r"^admin$", r"All prices are", r"free trial", r"^A couple hugging closely$",
    r"^A couple smiling at each other$", r"^More articles$", r"^Remainly - Online Couples Therapy$",
]


@pytest.fixture(scope="module")
def corpus_report():
    return read_corpus(CORPUS)


def test_all_five_articles_are_read(corpus_report):
    assert corpus_report.skipped == []
    assert len(corpus_report.files) == 5


@pytest.mark.parametrize("pattern", LEFTOVERS)
def test_no_scraping_leftover_survives_cleaning(corpus_report, pattern):
    for item in corpus_report.files:
        assert not re.search(pattern, item.article.text, re.M | re.I), (item.article.article_id, pattern)


def test_cleaning_keeps_the_prose_around_what_it_removes(corpus_report):
    texts = {f.article.article_id: f.article.text for f in corpus_report.files}
    # The paragraph before the comment form and the one after the image caption survive.
    assert texts[GUIDE].rstrip().endswith("one act of choosing your relationship each day.")
    assert "Express appreciation" in texts[REMAINLY]
    assert texts[REMAINLY].startswith("What is emotional intimacy?")
    # Text is normalised, not rewritten: curly quotes and dashes stay as the authors wrote them.
    assert "isn’t built overnight—it’s cultivated" in texts[KMA]


def test_general_rules_apply_to_any_page():
    blocks = [Block(t) for t in [
        "Menu", "Caring for Each Other", "Menu", "Couples who share chores report more closeness.",
        "Two people holding hands", "Why It Works", "Shared effort signals respect.",
        "Plans from $29/month", "Leave a Comment", "Your email address will not be published.", "Name"]]
    kept = [b.text for b in clean_blocks(blocks)]
    assert kept == ["Caring for Each Other", "Couples who share chores report more closeness.", "Why It Works",
                    "Shared effort signals respect."]


def test_titles_and_sections_are_detected(corpus_report):
    articles = {f.article.article_id: f.article for f in corpus_report.files}
    kma = articles[KMA]
    assert kma.title == "The Importance of Emotional Intimacy in Long-Term Relationships"
    kma_sections = [s.title for s in kma.sections]
    assert "What Is Emotional Intimacy and Why Does It Matter?" in kma_sections
    assert "Can emotional intimacy be rebuilt after betrayal?" in kma_sections
    guide_paths = [s.path for s in articles[GUIDE].sections]
    assert "Why Emotional Intimacy Fades › 3. Avoiding Difficult Conversations" in guide_paths
    assert "What Is Emotional Intimacy?" in guide_paths
    # List lead-ins and list items are not headings.
    assert not any(s.title.startswith(("Try", "When emotional intimacy is strong")) for s in articles[GUIDE].sections)
    for article in articles.values():
        for section in article.sections:
            assert article.text[section.start:section.end].startswith(section.title) or section.title == "Introduction"


# -- chunking ------------------------------------------------------------------------------------

def test_every_chunk_and_sentence_is_an_exact_slice_within_one_section(corpus_report):
    for item in corpus_report.files:
        text = item.article.text
        assert item.chunks, item.article.article_id
        for chunk in item.chunks:
            assert text[chunk.start:chunk.end] == chunk.text
            assert chunk.text == chunk.text.strip()
            section = item.article.section_at(chunk.start)
            assert section is not None and section.path == chunk.section
            assert chunk.end <= section.end
            for start, end in chunk.sentences:
                assert chunk.start <= start < end <= chunk.end
                sentence = text[start:end]
                assert sentence == sentence.strip() and not sentence.startswith(("•", "- "))


def test_chunks_cover_all_body_text_and_respect_the_size_bound(corpus_report):
    bound = ChunkSettings().max_chars
    for item in corpus_report.files:
        article = item.article
        text = article.text
        headings = [(s.start, s.start + len(s.title)) for s in article.sections if s.title != "Introduction"]
        if text.startswith(article.title):
            headings.append((0, len(article.title)))
        covered = bytearray(len(text))
        for start, end in headings:
            covered[start:end] = b"\x01" * (end - start)
        for chunk in item.chunks:
            covered[chunk.start:chunk.end] = b"\x01" * (chunk.end - chunk.start)
            longest_sentence = max(e - s for s, e in chunk.sentences)
            assert len(chunk.text) <= max(bound, longest_sentence)
        missing = "".join(ch for ch, c in zip(text, covered) if not c and not ch.isspace())
        assert missing == "", (article.article_id, missing[:80])


def test_sentence_spans_split_sentences_not_abbreviations_or_quotes():
    text = "Swap “How was your day?” with a real question. Dr. Gottman agrees, e.g. in his books! Then stop."
    spans = sentence_spans(text, 0, len(text))
    assert [text[s:e] for s, e in spans] == [
        "Swap “How was your day?” with a real question.", "Dr. Gottman agrees, e.g. in his books!", "Then stop."]


def test_a_long_paragraph_is_cut_between_sentences(tmp_path):
    sentence = "Partners who listen closely feel closer to each other over time. "
    path = tmp_path / "long.txt"
    path.write_text("Listening\n" + sentence * 40 + "\n", encoding="utf-8")
    item = ingest_file(path, settings=ChunkSettings(max_chars=300))
    assert len(item.chunks) > 5
    for chunk in item.chunks:
        assert len(chunk.text) <= 300 and chunk.text.endswith("over time.")
