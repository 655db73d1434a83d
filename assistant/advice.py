"""Advice aimed at the right person.

When a question says the partner (or an ex) is the one behaving badly ("he cheated", "she lies to
me", "my husband ignores me"), quotes that tell the asker to forgive, let go of resentment, take
responsibility or apologise are the wrong advice, unless the question asks for exactly that ("how
do I forgive him?", "I cheated, how do I make it right?").
"""

from __future__ import annotations

import re

_PARTNER = (r"(?:he|she|they|him|her|(?:my\s+)?(?:husband|wife|partner|spouse|boyfriend|girlfriend|bf|gf|hubby|"
            r"fianc[eé]e?|ex-\w+)|my\s+(?:ex|man|woman|guy|girl|significant other|so))")
_BAD = (r"(?:cheat\w*|(?:had|having|has) an affair|lie[sd]?|lying|lied|hid(?:es|ing)?|hides|keeps? secrets?|"
        r"betray\w*|flirt\w*|sexting|texting (?:other|another|his ex|her ex)|yell\w*|scream\w*|shout\w*|"
        r"insult\w*|belittl\w*|criticiz\w*|criticis\w*|blames? me|puts? me down|calls? me names|"
        r"ignor\w*|disrespect\w*|won'?t (?:talk|listen|apologi[sz]e|change)|never (?:listens|apologi[sz]es|helps)|"
        r"doesn'?t (?:listen|care|help|respect)|refuses? to|stonewall\w*|gaslight\w*|mean to me|cold to me|"
        r"(?:is|was|has been|keeps) (?:mean|rude|cruel|selfish|dismissive|contemptuous|unfaithful)|"
        r"left me for|dumped me|walked out|kicked me out|stopped (?:talking|caring)|shuts? down|goes quiet|"
        r"(?:has|with) (?:anger|trust|jealousy) issues|gets? (?:angry|mad|jealous)|penali[sz]\w*|"
        r"(?:had|has|having) sex with|slept with|made everything about (?:him|her)|narcissis\w*|demanding|"
        r"controlling|manipulat\w*|guilt[- ]trip\w*)")
PARTNER_AT_FAULT = re.compile(rf"\b{_PARTNER}\b(?:\s+[\w'’]+){{0,4}}?\s+{_BAD}|\b{_PARTNER}\s+(?:\w+\s+)?(?:is|was)\s+"
                              rf"(?:a\s+)?(?:narcissist|cheater|liar|bully)\b|my\s+(?:demanding|controlling|"
                              rf"cheating|lying|narcissistic)\s+\w+", re.IGNORECASE)
# The asker asks about their own part: forgiving, making amends, what they did wrong.
ASKS_OWN_PART = re.compile(
    r"\b(?:(?:how|should|can|could) (?:do |can )?i (?:ever )?(?:forgive|let go|move past|get over|apologi[sz]e|"
    r"make (?:it|this|things) right|make amends|take responsibility|earn (?:back )?(?:his|her|their) trust)|"
    r"i (?:cheated|lied|had an affair|messed up|hurt (?:him|her|them))|forgiv\w+|what did i do wrong|my fault)\b",
    re.IGNORECASE)
# Quotes that put the work of repair on the asker.
ASKER_REPAIRS = re.compile(
    r"\b(?:forgiv\w+|let go of (?:resentment|grievances|the past|past hurts)|taking responsibility|"
    r"take responsibility|accountab\w+|apologi[sz]\w*|making amends|make amends)\b", re.IGNORECASE)


def partner_at_fault(question: str) -> bool:
    """True when the question says the partner or an ex behaves badly, and does not ask about
    the asker's own part in repair."""
    return bool(PARTNER_AT_FAULT.search(question)) and not ASKS_OWN_PART.search(question)


def wrong_advice_for(question: str):
    """A test of quotes for this question: True for a quote that would be the wrong advice
    (always False when the partner is not said to be at fault)."""
    if not partner_at_fault(question):
        return lambda quote: False
    return lambda quote: bool(ASKER_REPAIRS.search(quote))
