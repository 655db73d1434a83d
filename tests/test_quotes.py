"""Quotes stand alone: a sentence that leans on the one before is quoted with it, or not at all."""

from __future__ import annotations

import pytest

from assistant.compose import leans_back
from assistant.service import Assistant
from assistant.settings import Settings


@pytest.mark.parametrize("sentence", [
    "In that case, plan a weekly walk together.", "But suppose your partner says no.", "However, it takes time.",
    "Finally, thank each other.", "This can lead to resentment.", "These activities build trust.",
    "It requires patience.", "They might talk, but something feels off.", "- This creates a cycle.",
    "That’s where couples therapy comes in.", "For example, share one worry a day.",
])
def test_sentences_that_start_mid_thought_are_recognised(sentence):
    assert leans_back(sentence)


@pytest.mark.parametrize("sentence", [
    "Emotional intimacy grows through small habits.", "Thoughtful questions encourage deeper dialogue.",
    "Therapy offers a safe space to rebuild trust.", "Start with simple daily practices.",
    "Theirs is a common story.", "Itineraries can be planned together.", "Butterflies fade; closeness can grow.",
])
def test_sentences_that_stand_alone_are_not(sentence):
    assert not leans_back(sentence)


LONG = ("Couples who argue about chores often argue about feeling unappreciated. The dishes are rarely the "
        "point, and both partners usually know it, even when neither says so out loud during the fight. "
        "Noticing the pattern is the first step toward changing it, and naming it together helps a lot more "
        "than winning the argument about whose turn it was. In that case, agree on a weekly chores meeting "
        "where appreciation is said out loud before any complaint is raised.")


def _assistant(tmp_path, fake_embedder, text):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "chores.txt").write_text(f"Chores and appreciation\n\nWhy chores matter\n{text}\n", encoding="utf-8")
    return Assistant.open(Settings(home=tmp_path / "home", corpus=corpus), embedder=fake_embedder)


def test_a_sentence_that_leans_back_is_quoted_with_the_sentence_it_leans_on(tmp_path, fake_embedder):
    assistant = _assistant(tmp_path, fake_embedder, LONG)
    answer = assistant.ask("agree weekly chores meeting appreciation said out loud before complaint")
    assert answer.citations
    for citation in answer.citations:
        assert not leans_back(citation.quote), citation.quote
        assert assistant.article(citation.article_id).text[citation.start:citation.end] == citation.quote
    quoted = " ".join(c.quote for c in answer.citations)
    assert "In that case, agree on a weekly chores meeting" in quoted
    assert "Noticing the pattern is the first step" in quoted  # what "In that case" refers to


def test_the_evaluation_counts_quotes_that_start_mid_thought(tmp_path, fake_embedder):
    from assistant.evaluation.runner import _aggregate

    rows = [{"answerable": True, "pass": True, "latency_ms": 1.0, "abstained": False, "citations": 2,
             "exact_citations": 2, "mid_thought_citations": 1, "promotional_citations": 0, "rejected_cited": True,
             "has_rejected": True},
            {"answerable": True, "pass": True, "latency_ms": 1.0, "abstained": False, "citations": 2,
             "exact_citations": 2, "mid_thought_citations": 0, "promotional_citations": 1, "rejected_cited": False}]
    out = _aggregate(rows, 5, "passage")
    assert out["mid_thought_quotes"] == pytest.approx(0.25)
    assert out["adverts_quoted"] == pytest.approx(0.25)
    assert out["rejected_quoted"] == pytest.approx(1.0)


LIST = ("Trust grows through small acts of consistency, repeated over months rather than days.\n"
        "This may include:\n- following through on commitments about chores and plans\n"
        "- being emotionally available when your partner reaches out\n")


def test_a_list_whose_lead_in_leans_back_is_quoted_from_the_sentence_it_leans_on(tmp_path, fake_embedder):
    assistant = _assistant(tmp_path, fake_embedder, LIST)
    answer = assistant.ask("following through on commitments about chores and plans")
    quoted = [c.quote for c in answer.citations if "following through" in c.quote]
    assert quoted and quoted[0].startswith("Trust grows through small acts of consistency"), quoted
    assert not any(leans_back(c.quote) for c in answer.citations)
