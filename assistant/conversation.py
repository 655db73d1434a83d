"""A conversation: questions answered with the turns before them, so that a follow-up ("tell me
more", "and in the Remainly article?") keeps its subject. Used by the web chat, `/ask` (which
takes the conversation so far) and `closer chat`."""

from __future__ import annotations

from .errors import BadRequest
from .reading import Turn
from .records import Answer

MAX_TURNS = 8  # the turns a follow-up is read with


def questions_of(history) -> list[str]:
    """The questions of a conversation as a program may send it: a list of questions, of
    {"question": ...} objects (earlier answers' JSON), or of chat messages {"role": "user",
    "content": ...} (the assistant's messages are skipped)."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise BadRequest("history must be a list of the questions asked before, oldest first")
    questions = []
    for item in history:
        if isinstance(item, str):
            text = item
        elif isinstance(item, dict) and isinstance(item.get("question"), str):
            text = item["question"]
        elif isinstance(item, dict) and item.get("role") in ("user", "assistant"):
            if item["role"] != "user":
                continue
            text = item.get("content") if isinstance(item.get("content"), str) else ""
        else:
            raise BadRequest("each item of history must be a question, {\"question\": ...} or "
                             "{\"role\": \"user\", \"content\": ...}")
        if text.strip():
            questions.append(text.strip())
    return questions


class Conversation:
    def __init__(self, assistant, turns: list[Turn] | None = None) -> None:
        self.assistant = assistant
        self.turns: list[Turn] = list(turns or [])

    @classmethod
    def replay(cls, assistant, questions: list[str], *, k: int = 5) -> "Conversation":
        """The conversation that asking `questions` in turn makes (answers are recomputed)."""
        conversation = cls(assistant)
        for question in questions[-MAX_TURNS:]:
            conversation.ask(question, k=k)
        return conversation

    def ask(self, question: str, *, k: int = 5, article_id: str | None = None) -> Answer:
        answer = self.assistant.ask(question, k=k, article_id=article_id, history=self.turns[-MAX_TURNS:])
        self.turns.append(Turn(question.strip(), answer.reading,
                               tuple((c.article_id, c.start, c.end) for c in answer.citations)))
        return answer
