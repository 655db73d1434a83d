"""Read a question once, with the turns before it, into a `Reading`: its kind, the article it
names, its topic and the turn it follows. Each kind has its own composer (assistant/kinds).

Kinds:
- "summary": "Summarize the Remainly article", "What is the KMA article about?", "main points".
- "across": "What do the articles say about X", "Which articles talk about X", "compare what they
  say about X", and a bare topic ("betrayal", "quality time"): per article, as `lookup` does.
- "article": a question that names one article ("What does the KMA Therapy article say about
  technology?", "In the coaching blog, how do I listen better?"): answered from it only.
- "advice": everything else; the question is answered from all the articles.

A follow-up is read with the turn before it: "tell me more" continues that turn with passages not
quoted yet; "and in the Remainly article?" keeps its topic for another article; "and about
technology?" keeps its article (or its kind) for another topic; "what does it say about trust?"
keeps its article. A question that stands on its own starts afresh.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace

from index import tokenize

from .names import ArticleNames, Named

KINDS = ("advice", "article", "across", "summary")
MAX_BARE_TOPIC_WORDS = 4
MAX_BARE_SUMMARY_WORDS = 5
_ABOUT_ARTICLES = re.compile(r"\b(?:articles|sources|pieces|readings|them all|all of them)\b", re.IGNORECASE)

_ARTICLE_NOUN = r"(?:article|piece|blog|post|guide|one|page|site|text|source)"
SUMMARY = re.compile(
    r"\b(?:summar(?:ise|ize|ized|ised|izing|ising)|sum (?:it |this |that |them )?up|tl;?\s?dr|in a nutshell|"
    # the noun as a request ("an overview of …", "give me a summary"), not a name ("the Summary for Policymakers")
    r"(?:summary|overview|gist|outline|rundown|recap)(?=\s+of\b|\s+please\b|\s*[?.!]*\s*$)|(?:main|key|central) (?:points?|ideas?|takeaways?|messages?|arguments?|themes?|sections?)|"
    rf"what(?:'s|’s| is| are) (?:it|they|(?:the|this|that|each|every) [^?]{{0,60}}?{_ARTICLE_NOUN}s?) (?:mainly |really |all )?about"
    rf"|what do(?:es)? (?:it|(?:the|this|that) [^?]{{0,60}}?{_ARTICLE_NOUN}s?) (?:mainly |generally )?(?:cover|discuss))\b",
    re.IGNORECASE)
ACROSS = re.compile(
    r"\b(?:(?:which|what) (?:of (?:the|these) )?(?:articles|sources|pieces)\b|"
    r"which (?:article|one|source)s?\b(?=[^.?!]{0,30}\b(?:say|says|talk|talks|mention|mentions|discuss|discusses|"
    r"cover|covers|speak|speaks|address|addresses)\b)|"
    r"(?:what|how) do(?:es)? (?:the|these|all the|all|your|those|all of the|all five|the five) (?:\w+ )?"
    r"(?:articles|sources|pieces)\b|"
    r"(?:do|does|did|is|are) (?:any|all|each|either|none|some) (?:of )?(?:the |these |your )?(?:articles|sources)\b|"
    r"compar(?:e|ing|ison of) (?:what (?:they|the articles|the \w+ articles|each (?:article|one)) (?:say|said|write)|"
    r"(?:the|these|all the|all) (?:\w+ )?articles|them)\b|"
    r"(?:across|in|from|among) (?:all |each of |every one of |any of )?(?:the|these|your|all) (?:\w+ )?articles\b|"
    r"(?:in|from|does|do|did|of) (?:each|every|any) (?:single )?article\b|"
    r"(?:each|every|any) article (?:says?|talks?|mentions?|discuss(?:es)?|covers?)\b|"
    r"the articles (?:say|talk|mention|discuss|cover|agree|differ))",
    re.IGNORECASE)
# What a question asks about: "say (anything) about X", "mention X", "talk about X", "on X".
TOPIC = re.compile(
    r"\b(?:say|says|said|saying|talk|talks|write|writes|speak|speaks|think|thinks|tell (?:me|us)|suggest|suggests|"
    r"recommend|recommends|advise|advises|agree|differ|have|has)\s+(?:anything |something |much |most |more |a lot |"
    r"the most |in common )?(?:about|on|regarding|concerning|re|when it comes to|for)\s+(?P<a>.+)$|"
    r"\b(?:mention|mentions|mentioned|discuss|discusses|discussed|cover|covers|covered|address|addresses|"
    r"deal with|deals with|touch on|touches on|explain|explains)\s+(?P<b>.+)$|"
    r"\b(?:compare|comparison of)\s+(?:what (?:they|the articles|the \w+ articles) (?:say|said) )?"
    r"(?:about |on |of )?(?P<c>.+)$|"
    r"^(?:is|are|was|were)\s+(?P<e>.+?)\s+(?:covered|mentioned|discussed|addressed|talked about)\b|"
    r"\b(?:about|on|regarding|concerning)\s+(?P<d>[^,]+)$", re.IGNORECASE)
MORE = re.compile(
    r"^(?:(?:ok(?:ay)?|thanks|great|and|so|yes|yeah|hmm)[,!.]?\s+)*(?:(?:can|could|would) you |please )?"
    r"(?:tell me more|tell me some more|say more|more|go on|continue|keep going|anything else|what else|elaborate|"
    r"expand(?: on (?:that|this|it))?|more please|(?:tell me |say )?more (?:about|on) (?:that|this|it)|"
    r"what else (?:do|does) (?:they|it|the articles?) say|give me more|(?:any|some) more|next)"
    r"(?: please)?[\s.?!]*$", re.IGNORECASE)
ELLIPTIC = re.compile(r"^(?:and|also|plus|what about|how about|and what about|and how about|what of|same for|"
                      r"same in|now|then)\b[\s,]*", re.IGNORECASE)
BACK_TO_ARTICLE = re.compile(
    r"\b(?:(?:that|this|the|same) (?:article|piece|one|blog|post|guide|page)(?!s)\b|"
    r"(?:does|did|do) it (?:say|mention|talk|cover|discuss|have|suggest|recommend|explain)|"
    r"what else does it|in it\b|according to it)", re.IGNORECASE)
_PRONOUNS = {"i", "me", "my", "mine", "myself", "we", "us", "our", "you", "your", "he", "him", "his", "she",
             "her", "they", "them", "their", "it", "its", "i'm", "im", "i've", "i'd"}
_ASKING = {"is", "are", "am", "was", "were", "do", "does", "did", "can", "could", "should", "would", "will", "how",
           "what", "why", "when", "where", "who", "which", "whom", "whose", "hi", "hello", "hey", "thanks",
           "thank", "ok", "okay", "yes", "no", "help", "please", "tell", "give", "show", "explain"}


@dataclass(frozen=True)
class Reading:
    """How a question was read. `question` is what is answered: the question itself, or, for a
    follow-up that keeps the turn before's subject, that turn's question."""

    kind: str  # one of KINDS
    question: str
    topic: str | None = None  # what it asks about, when it names one ("technology")
    article_id: str | None = None  # the one article it is answered from
    named: str | None = None  # the words that named the article ("the Remainly piece")
    follow_up: str | None = None  # None, or how it continues a turn: "more" | "article" | "topic" | "same"
    follows: int | None = None  # index (0-based) in the conversation of the turn it continues
    # The dangers the question (or, for a follow-up, the turn it continues) discloses, as the
    # safety layer reads them (assistant/safety): the answer opens with a notice when there are any.
    concerns: tuple[str, ...] = ()
    excluded: tuple[tuple[str, int, int], ...] = field(default=(), repr=False)  # quoted already: not again

    @property
    def subject(self) -> str:
        """What the answer is about, in a few words: the topic, or the question as asked."""
        return self.topic or self.question

    def to_dict(self) -> dict:
        record = asdict(self)
        record.pop("excluded")
        return record


@dataclass(frozen=True)
class Turn:
    """One question of a conversation, how it was read and what was quoted for it."""

    question: str
    reading: Reading
    quoted: tuple[tuple[str, int, int], ...] = ()  # (article id, start, end) of each quote given

    def to_dict(self) -> dict:
        return {"question": self.question, "reading": {**self.reading.to_dict(), "excluded": self.reading.excluded},
                "quoted": [list(q) for q in self.quoted]}

    @classmethod
    def from_dict(cls, record: dict) -> "Turn":
        reading = dict(record["reading"])
        reading["excluded"] = tuple(tuple(q) for q in reading.get("excluded", ()))
        reading["concerns"] = tuple(reading.get("concerns", ()))
        return cls(record["question"], Reading(**reading), tuple(tuple(q) for q in record.get("quoted", ())))


def _clean_topic(text: str | None) -> str | None:
    if not text:
        return None
    text = re.sub(r"\s+", " ", text).strip(" \t\n?.!,;:\"“”'’")
    text = re.sub(r"^(?:the topic of|the subject of|the issue of|the idea of|the question of)\s+", "", text, flags=re.I)
    text = re.sub(r"\s+(?:at all|in general|generally|exactly|please|then)$", "", text, flags=re.I)
    return text if tokenize([text])[0] else None


def topic_of(question: str, named: Named | None = None) -> str | None:
    """The topic a question asks about ("technology" in "What does X say about technology?")."""
    text = question
    if named:
        # The topic is what the article is asked about: it comes after the words naming it
        # ("What does the KMA article say about X"), not before ("Does my insurance cover X with Remainly?").
        at = question.find(named.words)
        text = question[at + len(named.words):] if at >= 0 else question.replace(named.words, " ")
    text = re.sub(r"\s+", " ", text).strip()
    match = TOPIC.search(text)
    if not match:
        return None
    if match.group("e"):  # "Is stress covered in any of them?"
        return _clean_topic(match.group("e"))
    topic = next(g for g in match.groups() if g)
    # "... say about technology in the KMA article" : the article's words are gone already.
    topic = re.split(r"\s+(?:in|from|according to)\s+(?:the|that|this|each|all)\b", topic)[0]
    return _clean_topic(topic)


def is_bare_topic(question: str) -> bool:
    """A few words naming a subject, not a sentence ("betrayal", "quality time")."""
    words = re.findall(r"[\w’'-]+", question.casefold())
    if not words or len(words) > MAX_BARE_TOPIC_WORDS or not tokenize([question])[0]:
        return False
    words = [re.sub(r"['’]s$", "", w) for w in words]  # "what's", "Piketty's"
    if any(w.replace("’", "'") in _PRONOUNS or w in _ASKING for w in words):
        return False
    return not re.search(r"[.!;]\s*\S", question)


def without_name(question: str, named: Named | None) -> str:
    """The question with the words that name the article and their framing taken out:
    "In the KMA article, how do couples rebuild trust?" -> "how do couples rebuild trust?"."""
    if named is None:
        return question
    text = question.replace(named.words, " ")
    text = re.sub(r"\b(?:in|from|according to|by|of|with|at)\s+(?=[,?.!]|\s*$)", " ", text, flags=re.I)
    text = re.sub(r"\s+", " ", text).strip(" ,;:")
    return text


def _has_content(text: str) -> bool:
    words = [w for w in re.findall(r"[\w’'-]+", text.casefold())
             if w not in _ASKING and w not in _PRONOUNS and w not in ("say", "says", "and", "about", "in", "the",
                                                                        "what", "anything", "article", "one")]
    return bool(words and tokenize([" ".join(words)])[0])


def read_question(question: str, names: ArticleNames, history: list[Turn] | None = None,
                  article_id: str | None = None) -> Reading:
    """Read `question` (with the conversation so far) into a Reading. `article_id`: a filter the
    caller chose (the page's "Answer from" list, `--article`); a named article takes its place."""
    question = question.strip()
    history = history or []
    named = names.find(question)
    chosen = named.article_id if named else article_id
    if history:
        follow = _follow_up(question, named, history)
        if follow is not None:
            return follow
    if SUMMARY.search(question) and (chosen is not None or _ABOUT_ARTICLES.search(question)
                                     or len(question.split()) <= MAX_BARE_SUMMARY_WORDS):
        # Naming no article, a summary is of the articles ("Summarise the articles", "main
        # points?"), not of whatever a longer question mentions ("the main idea of Hutton's paper").
        return Reading("summary", question, article_id=chosen, named=named.words if named else None)
    if chosen is None and ACROSS.search(question):
        return Reading("across", question, topic=topic_of(question) or _clean_topic(question))
    if chosen is not None:
        return Reading("article", question, topic=topic_of(question, named), article_id=chosen,
                       named=named.words if named else None)
    if is_bare_topic(question):
        return Reading("across", question, topic=_clean_topic(question))
    return Reading("advice", question)


def _follow_up(question: str, named: Named | None, history: list[Turn]) -> Reading | None:
    last = len(history) - 1
    before = history[last].reading
    quoted = tuple(q for turn in history for q in turn.quoted)
    if MORE.match(question):
        return replace(before, follow_up="more", follows=last, excluded=quoted)
    elliptic = ELLIPTIC.match(question)
    rest = question[elliptic.end():] if elliptic else question
    if named is not None:
        remaining = without_name(rest, named)
        topic = topic_of(question, named)
        if not _has_content(remaining) and topic is None:
            # "and in the Remainly article?", "what does the KMA one say?": the topic before, here.
            return Reading("summary" if before.kind == "summary" else "article", before.question,
                           topic=before.topic, article_id=named.article_id, named=named.words,
                           follow_up="article", follows=last)
        return None
    if elliptic and _has_content(rest):
        # "and about technology?", "what about trust?": another topic, the same article or kind.
        topic = topic_of(rest) or _clean_topic(re.sub(r"^(?:about|on|for|in|with)\s+", "", rest, flags=re.I))
        kind = before.kind if before.kind in ("article", "across") else "advice"
        if before.article_id is not None:
            kind = "article"
        return Reading(kind, question if kind == "advice" else (topic or question), topic=topic,
                       article_id=before.article_id, named=before.named, follow_up="topic", follows=last)
    if before.article_id is not None and SUMMARY.search(question) and re.search(
            r"\b(?:it|this|that|the article|this article|that article)\b", question, re.IGNORECASE):
        return Reading("summary", question, article_id=before.article_id, named=before.named,
                       follow_up="same", follows=last)
    if before.article_id is not None and BACK_TO_ARTICLE.search(question):
        # "What does it say about trust?": the same article.
        if SUMMARY.search(question):
            return Reading("summary", question, article_id=before.article_id, named=before.named,
                           follow_up="same", follows=last)
        return Reading("article", question, topic=topic_of(question), article_id=before.article_id,
                       named=before.named, follow_up="same", follows=last)
    return None
