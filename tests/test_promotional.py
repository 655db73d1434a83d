"""Promotional text (adverts, calls to action, biographies, the article talking about itself) is
recognised by general rules at ingest, kept and marked, and never quoted as an answer."""

from __future__ import annotations

import pytest

from assistant.service import Assistant
from assistant.settings import Settings
from assistant.web.render import article_html
from ingest import ingest_text
from ingest.promotional import promotional_kind

from conftest import KMA, REMAINLY

# Sentences in the style of web pages other than the five articles: a clinic, a coaching site, a
# dating app's blog, a magazine with a newsletter, an author box.
PROMOTIONAL = [
    ("Call our office today to schedule your free 20-minute consultation.", "call to action"),
    ("Contact us to find out whether online counselling is right for you.", "call to action"),
    ("Sign up for our weekly newsletter and never miss a relationship tip.", "call to action"),
    ("Click here to download your free e-book on communication.", "call to action"),
    ("Use code LOVE20 for 20% off your first month.", "call to action"),
    ("Book an appointment with one of our counsellors in minutes.", "call to action"),
    ("Feel like you need more support? Don't hesitate to get in touch.", "call to action"),
    ("Here at Harbour Counselling, we offer evening and weekend sessions.", "service offer"),
    ("Our licensed therapists are available seven days a week.", "service offer"),
    ("We specialise in helping couples through infidelity and separation.", "service offer"),
    ("Dr. Maya Lin is a licensed marriage and family therapist based in Portland.", "biography"),
    ("Tom Reyes, LMFT, works with couples in Austin and online.", "biography"),
    ("She holds a master's degree in counselling psychology from Columbia.", "biography"),
    ("With 15 years of experience, Sarah has helped hundreds of couples reconnect.", "biography"),
    ("In this article, we share five ways to feel close again.", "about the article"),
    ("This post covers the warning signs and what to do about them.", "about the article"),
]

# The same words in their ordinary sense: advice, a story, a tip.
ORDINARY = [
    "Feel free to call your partner during lunch just to say hello.",
    "We booked a weekend away and finally talked about the baby.",
    "He holds a grudge for days after every argument.",
    "Take our advice with a grain of salt: every couple is different.",
    "Schedule a weekly check-in to talk about how you both feel.",
    "When we are emotionally intimate, we offer each other comfort without being asked.",
    "Let your partner know you are there for them.",
    "Couples therapy offers a safe space to rebuild trust.",
    "If you and your partner struggle, it may be worth seeking the help of a professional counsellor.",
    "My husband has 20 years of experience in the army and rarely talks about it.",
    "Our relationship improved when we started sharing our highs and lows.",
]


@pytest.mark.parametrize("sentence,kind", PROMOTIONAL)
def test_promotional_sentences_are_recognised_by_general_rules(sentence, kind):
    assert promotional_kind(sentence) == kind


@pytest.mark.parametrize("sentence", ORDINARY)
def test_the_same_words_in_ordinary_advice_are_not_promotional(sentence):
    assert promotional_kind(sentence) is None


PAGE = """Making Up After a Fight

Why repair matters
After an argument, a small gesture of repair tells your partner the relationship is safe. Couples who repair quickly stay closer over the years.

Working with us
At Brightside Couples Clinic, we help couples repair after conflict. Our approach is warm and practical. We believe every couple can learn to fight fair.
Ready to start? Book a free 15-minute call with our intake team today."""


def test_a_user_document_goes_through_the_same_rules_and_keeps_its_text():
    ingested = ingest_text("900_page", PAGE)
    article = ingested.article
    marked = [article.text[s:e] for s, e in article.promotional]
    # The business voice that continues an offer ("Our approach…", "We believe…") is part of it.
    assert marked == ["At Brightside Couples Clinic, we help couples repair after conflict.",
                      "Our approach is warm and practical.", "We believe every couple can learn to fight fair.",
                      "Ready to start?", "Book a free 15-minute call with our intake team today."]
    assert "Book a free 15-minute call" in article.text  # kept in the article
    assert not any("small gesture of repair" in m for m in marked)


def test_an_advert_is_never_quoted_and_a_sales_only_passage_is_never_retrieved(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "page.txt").write_text(PAGE, encoding="utf-8")
    assistant = Assistant.open(Settings(home=tmp_path / "home", corpus=corpus), embedder=fake_embedder)
    # Worded like the advert, so a bag-of-words ranking would pick it.
    answer = assistant.ask("Can I book a free call with the clinic's intake team to repair after conflict?")
    quoted = " ".join(c.quote for c in answer.citations)
    assert "Book a free" not in quoted and "Brightside" not in quoted and "Our approach" not in quoted
    index = assistant.index
    for hit in answer.passages:
        assert not index.chunk_promotional[hit.row]
    lookup = assistant.lookup("clinic")
    assert all("Brightside" not in m.text for a in lookup.articles for m in a.mentions)


def test_the_five_articles_adverts_are_marked_in_show_and_the_articles_tab(assistant_real):
    kma = assistant_real.article(KMA)
    marked = [kma.text[s:e] for s, e in kma.promotional]
    assert any("discovery call" in m for m in marked)
    assert any("years of experience" in m for m in marked)  # the therapists' biographies
    html = article_html(assistant_real.article(REMAINLY))
    assert "closer-promo" in html and "don’t hesitate to contact us" in html
    # What is marked is still there, word for word, once.
    assert html.count("Here at Remainly") == 1
    # And the rest of the article is not marked.
    assert "<span class='closer-promo'" not in html.split("What is it?")[1].split("Express appreciation")[0]


@pytest.mark.parametrize("question", [
    "What does the KMA Therapy article say about couples therapy?",
    "How can I get guidance from a professional counsellor?",
    "Who can help us with our relationship?",
])
def test_no_advert_is_quoted_for_questions_about_help(assistant_real, question):
    answer = assistant_real.ask(question)
    for citation in answer.citations:
        article = assistant_real.article(citation.article_id)
        assert not any(s < citation.end and citation.start < e for s, e in article.promotional), citation.quote
