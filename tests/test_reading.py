"""Reading a question: the article it names (from the articles' own metadata), its kind, its
topic, and how a follow-up continues the turn before. No model: names and kinds are read from text."""

from __future__ import annotations

import pytest

from assistant.reading import ArticleNames, Turn, read_question
from ingest import Article, Section


def _article(article_id, title, publisher, body, headings=(), url=None):
    text = title + "\n\n" + body
    sections = [Section(h, 0, text.find(h), text.find(h) + len(h) + 10, h) for h in headings if h in text]
    return Article(article_id, title, publisher, text, sections, f"{article_id}.txt", url=url)


@pytest.fixture(scope="module")
def names():
    articles = {
        "kma": _article("kma", "The Importance of Emotional Intimacy in Long-Term Relationships", "KMA Therapy",
                        "Technology can be a double-edged sword. Couples therapy helps.", ["Technology"]),
        "coach": _article("coach", "The Importance of Emotional Intimacy", "a couples-coaching blog",
                          "Listen to your partner. Be present with them.", ["Listening well"]),
        "counsel": _article("counsel", "Rebuilding Emotional Intimacy (untitled guide)", "a counselling blog",
                            "Stress and overwhelm pull couples apart.\n\nPractice Emotional Vulnerability\n\nShare a fear.",
                            ["Practice Emotional Vulnerability"]),
        "rem": _article("rem", "What is emotional intimacy?", "Remainly - Online Couples Therapy",
                        "Be curious about your partner. Our online sessions help.", ["Be curious"]),
        # A document a user added: its name comes from its own metadata too.
        "added": _article("added", "Attachment Styles Explained", "", "Secure attachment grows with time.",
                          url="https://www.gottmanwise.com/attachment"),
    }
    return ArticleNames(articles)


@pytest.mark.parametrize("question, expected", [
    ("What does the KMA Therapy article say about technology?", "kma"),
    ("What does KMA say about betrayal?", "kma"),
    ("does remainly say anything about trust", "rem"),  # a proper name in any case
    ("What are the main points of the coaching blog?", "coach"),
    ("In the counselling one, how do couples rebuild trust?", "counsel"),
    ("the untitled guide: what does it say about stress?", "counsel"),
    ("What does the Gottmanwise piece say about attachment?", "added"),  # a user's document, by its site
    ("What does the one about vulnerability say?", "counsel"),  # by a heading
])
def test_an_article_is_named_by_its_own_metadata(names, question, expected):
    named = names.find(question)
    assert named is not None and named.article_id == expected, named


@pytest.mark.parametrize("question", [
    "Is online couples therapy worth it?",  # ordinary words of a publisher's name name nothing
    "I read a relationship blog that said to talk more. Is that true?",
    "What is emotional intimacy?",  # an article's title as an ordinary question
    "Which blog should I read about the breakup article my friend sent?",
    "I followed the guide my therapist gave me. Is that enough?",  # "the guide" alone names none
    "What does the emotional intimacy article say?",  # words every article's name holds
    "I feel alone and that i have no one. How can I be happy alone?",  # "that … one", not an article
])
def test_ordinary_words_name_no_article(names, question):
    assert names.find(question) is None


@pytest.mark.parametrize("question, kind, article, topic", [
    ("What does the KMA Therapy article say about technology?", "article", "kma", "technology"),
    ("Does the Remainly article say anything about technology?", "article", "rem", "technology"),
    ("Which articles talk about betrayal?", "across", None, "betrayal"),
    ("compare what they say about vulnerability", "across", None, "vulnerability"),
    ("Is stress covered in any of the articles?", "across", None, "stress"),
    ("quality time", "across", None, "quality time"),
    ("Summarize the Remainly article", "summary", "rem", None),
    ("What is the KMA article about?", "summary", "kma", None),
    ("Summarise the articles", "summary", None, None),
    ("How do couples rebuild trust after betrayal?", "advice", None, None),
    ("My husband barely talks to me", "advice", None, None),  # short, but a sentence, not a topic
    ("Does my insurance cover online sessions with Remainly?", "article", "rem", None),  # no "cover X" topic
    # Words of these kinds in their ordinary sense: a comparison that isn't of the articles, a
    # report named "Summary".
    ("How do the fees at private schools compare to those at other schools?", "advice", None, None),
    ("What does the Summary for Policymakers say humans are doing to the climate?", "advice", None, None),
    ("Give me an overview of the coaching blog", "summary", "coach", None),
    ("What was the main idea of James Hutton's paper?", "advice", None, None),
    ("What are the main points?", "summary", None, None),
    ("What's Thomas Piketty's job?", "advice", None, None),  # short, but a question
    ("Cypiddids are not what?", "advice", None, None),
    ("My girlfriend reads every article about the case. How do I change the subject?", "advice", None, None),
    ("Co-parenting apps? Which ones are good and actually get used by both parents?", "advice", None, None),
    ("Which one talks about technology?", "across", None, "technology"),
])
def test_each_kind_is_read_with_its_article_and_topic(names, question, kind, article, topic):
    reading = read_question(question, names)
    assert (reading.kind, reading.article_id, reading.topic) == (kind, article, topic)


def _turn(names, question, history=()):
    return Turn(question, read_question(question, names, list(history)), (("kma", 0, 5),))


def test_follow_ups_keep_the_subject_of_the_turn_before(names):
    first = _turn(names, "How do couples rebuild trust after betrayal?")
    other = read_question("and what does the Remainly article say?", names, [first])
    assert (other.kind, other.follow_up, other.article_id) == ("article", "article", "rem")
    assert other.question == first.question  # the topic kept, another article
    more = read_question("tell me more", names, [first])
    assert more.follow_up == "more" and more.question == first.question and more.excluded == (("kma", 0, 5),)

    about = _turn(names, "What does the KMA article say about betrayal?")
    tech = read_question("and about technology?", names, [about])
    assert (tech.kind, tech.article_id, tech.topic, tech.follow_up) == ("article", "kma", "technology", "topic")
    it = read_question("what does it say about trust?", names, [about])
    assert (it.article_id, it.topic, it.follow_up) == ("kma", "trust", "same")
    summary = read_question("and the Remainly one?", names, [_turn(names, "Summarize the KMA article")])
    assert (summary.kind, summary.article_id) == ("summary", "rem")


def test_a_question_that_stands_alone_starts_afresh(names):
    about = _turn(names, "What does the KMA article say about betrayal?")
    fresh = read_question("How do I stop fighting with my wife?", names, [about])
    assert (fresh.kind, fresh.article_id, fresh.follow_up) == ("advice", None, None)
    across = read_question("What do the articles say about listening?", names, [about])
    assert (across.kind, across.article_id) == ("across", None)


def test_a_turn_survives_its_round_trip_through_json(names):
    turn = _turn(names, "What does the KMA article say about betrayal?")
    assert Turn.from_dict(turn.to_dict()) == turn
