"""Questions that ask for an amount, and sentences that state one.

A question such as "How much does a couples therapy session cost?" or "How many minutes a day
should we talk?" is answered only by a sentence holding a number; a sentence about therapy or
talking that gives none is near the question but does not answer it. This is the answer-type
check of classic extractive question answering, kept to the one type a pattern can tell reliably
(amounts, counts, durations, ages, shares); "when" and "who" questions are left alone.
"""

from __future__ import annotations

import re

# "How much" asks for an amount only with money, time or weight in view ("How much does a session
# cost?"); otherwise it asks for a degree ("How much should I share with my partner?").
_MONEY_TIME = (r"cost|costs|charge|charges|charged|pay|pays|paid|price|prices|fee|fees|money|spend|spends|"
               r"spent|earn|earns|earned|worth|weigh|weighs|weighed|time|budget")
_ASKS = re.compile(
    r"\bhow (many|long|old|often|far|large|big|tall|high|fast|wide|deep|heavy)\b"
    rf"|\bhow much\b(?=[^?.!]*\b({_MONEY_TIME})\b)"
    r"|\bwhat (percentage|percent|proportion|fraction|share|amount|number) of\b", re.IGNORECASE)

_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds "
    "thousand thousands million millions billion billions trillion dozen dozens half twice several few "
    "once daily weekly monthly yearly annually").split()
_STATES = re.compile(r"\d|\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)


def asks_for_amount(question: str) -> bool:
    """Whether the question asks how many, how much, how long, how old, how often … ."""
    return bool(_ASKS.search(question))


def states_amount(text: str) -> bool:
    """Whether the text holds a number (digits or a number word such as "five", "twice", "weekly")."""
    return bool(_STATES.search(text))
