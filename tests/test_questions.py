"""The question inside a story: the asking sentences are found, and the search vector leans to them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from assistant.questions import asking_sentences
from assistant.service import Assistant
from assistant.settings import Settings
from conftest import CORPUS

STORY = ("My wife and I have been together eleven years. Since the twins were born we only talk about "
         "schedules and who picks up whom. I miss her. How do we feel close again?")


def test_the_asking_sentences_of_a_story_are_found():
    assert asking_sentences(STORY) == "How do we feel close again?"
    # No question mark: the last sentence asks.
    assert asking_sentences("We fight a lot. I still love her. It is wearing me down. Any advice") == "Any advice"


def test_a_short_question_is_its_own_focus():
    assert asking_sentences("How do couples rebuild trust?") is None
    assert asking_sentences("I cheated. How do we rebuild trust?") is None
    assert asking_sentences("Why? How? When?") is None  # all question: nothing to lean toward


def test_the_question_vector_leans_toward_the_asking_sentences(tmp_path, fake_embedder):
    assistant = Assistant.open(Settings(home=tmp_path / "home", corpus=CORPUS), embedder=fake_embedder)
    search = assistant.index.settings.search
    whole = fake_embedder.encode([STORY])[0]
    asking = fake_embedder.encode(["How do we feel close again?"])[0]
    assistant.index.settings = replace(assistant.index.settings, search=replace(search, question_focus=0.0))
    plain = assistant.search_vector(STORY, whole)
    assert np.allclose(plain, whole, atol=1e-6)
    assistant.index.settings = replace(assistant.index.settings, search=replace(search, question_focus=0.5))
    leaning = assistant.search_vector(STORY, whole)
    assert np.allclose(assistant.embed_question(STORY)[0], whole, atol=1e-6)  # declining and quotes: as asked
    assert float(leaning @ asking) > float(plain @ asking)
    assert abs(float(np.linalg.norm(leaning)) - 1.0) < 1e-5
