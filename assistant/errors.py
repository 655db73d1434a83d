"""Mistakes in what the user asked for. The CLI maps them to exit code 2, the web page to a notice."""


class BadRequest(Exception):
    """The request cannot be answered as given; the message says what to change."""


class EmptyQuestion(BadRequest):
    pass


class UnknownArticle(BadRequest):
    def __init__(self, article_id: str, valid: list[str]) -> None:
        self.article_id = article_id
        self.valid = valid
        listed = ", ".join(valid) if valid else "(none: the corpus is empty)"
        super().__init__(f"unknown article id {article_id!r}; valid ids: {listed}")


class CorpusMissing(BadRequest):
    """The corpus folder does not exist or holds no readable document."""
