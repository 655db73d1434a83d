"""What may be quoted after a safety notice.

The articles are about emotional intimacy between partners. After a disclosure of danger (the
asker's own, a friend's or a past one alike) they may only point towards professional help, and never tell the person to forgive, reconcile, take
responsibility, try harder or work on intimacy (for abuse, couples work is itself not advised by
domestic-abuse services). For thoughts of suicide or self-harm nothing is quoted: the notice is
the answer.
"""

from __future__ import annotations

import re

HELP = re.compile(r"\b(?:therap(?:ist|ists|y)|counsel(?:l)?(?:or|ors|ing)|psycholog(?:ist|ists)|professional(?:s)?|"
                  r"support (?:group|service|line)|helpline|hotline|doctor|gp|mental health)\b", re.IGNORECASE)
# Advice that must never follow a disclosure: reconciling, blaming oneself, working on the bond.
HARMFUL = re.compile(r"\b(?:forgiv\w*|reconcil\w*|responsib\w*|apolog\w*|work(?:ing)? (?:on|through|together)|"
                     r"try harder|rebuild\w*|reconnect\w*|repair\w*|intima\w*|vulnerab\w*|couples?|marriage|"
                     r"relationship counsel\w*|compromis\w*|patien\w*|let go|resentment|your partner|each other|"
                     r"both partners|together|spouse|closer|trust)\b", re.IGNORECASE)
NO_QUOTES = ("self_harm",)  # concerns answered by the notice alone
MAX_SAFE_QUOTES = 2


def is_safe_quote(text: str) -> bool:
    """A quote that only points towards professional help, with no advice to mend the relationship."""
    return bool(HELP.search(text)) and not HARMFUL.search(text)


def safe_quotes(concerns: tuple[str, ...], quotes: list, *, text=lambda q: q.quote) -> list:
    """The quotes that may follow a notice for `concerns`, at most MAX_SAFE_QUOTES."""
    if any(c in NO_QUOTES for c in concerns):
        return []
    return [q for q in quotes if is_safe_quote(text(q))][:MAX_SAFE_QUOTES]
