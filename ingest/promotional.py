"""Promotional text: the parts of a web article that sell rather than say something.

Calls to action ("book a free 15-minute discovery call", "please don't hesitate to contact us"),
service offers ("At KMA Therapy, we specialize in…", "Here at Remainly, we provide…"), author and
therapist biographies ("…has 10 years of experience working with couples"), newsletter prompts and
the article talking about itself ("This guide explores…", "Let's explore…") are found sentence by
sentence with general rules, not with the names of the five articles' publishers. They stay in the
article (`closer show`, the Articles tab mark them) but are never quoted as an answer.

A sentence is promotional when a rule matches it, or when it follows a promotional sentence of the
same paragraph and speaks in the business's voice ("we", "our", "us"): "At X, we specialize in… Our
approach is personalized… We believe…".
"""

from __future__ import annotations

import re

_RULES: dict[str, list[str]] = {
    "call to action": [
        r"\b(contact|call|email|e-mail|message|reach out to|get in touch with|write to)\s+(us|our\s+(team|office|clinic|practice))\b",
        r"\bdon['’]?t hesitate to (contact|reach|call|get in touch|book)",
        r"\bbook (a|an|your)\b[^.!?]{0,40}\b(call|consultation|appointment|assessment|intake|session with)\b",
        r"\bbook yours\b",
        r"\b(free|complimentary)\s+(\d+[- ]minute\s+)?(consultation|discovery call|call|session|trial|quiz|e-?book|"
        r"guide|download|assessment|webinar|workshop)\b",
        r"\bdiscovery call\b",
        r"\bschedule (a|an|your)\b[^.!?]{0,30}\b(consultation|appointment|call with)\b",
        r"\b(sign up|subscribe|join)\b[^.!?]{0,40}\b(newsletter|mailing list|our list|our community)\b",
        r"\bclick (here|the link|below)\b",
        r"\b(take|try|join|enrol in|enroll in) our\b[^.!?]{0,30}\b(quiz|test|assessment|course|programme|program|app|"
        r"workshop|webinar|membership)\b",
        r"\b(visit|check out|explore|browse) our (website|site|blog|page|shop|store|resources|services|courses|"
        r"programmes?|programs?|library|catalogue|catalog|podcast)\b",
        r"\bready to take the (next|first) step\b",
        r"^(are you )?ready to (start|begin|get started|book|talk to (us|someone)|find out)\b",
        r"\b(download|get) (our|the|your) free\b",
        r"\b(use|with) (the )?(promo |discount )?code\b",
        r"\b(read on|keep reading|continue reading)\b",
        r"\b(ready|want) to learn more about\b",
    ],
    "service offer": [
        r"^(?i:(here\s+)?at)\s+[A-Z][\w&'’.-]*(\s+[A-Z][\w&'’.-]*){0,4},\s+(?i:we|our)\b",
        r"\bour (team|therapists|counsellors|counselors|psychotherapists|clinicians|coaches|experts|practice|clinic|"
        r"services|programmes?|programs?|platform|app|courses?|packages?)\b",
        r"\bwe (offer|provide)\b[^.!?]{0,40}\b(services|sessions|therapy|counselling|counseling|coaching|programmes?|"
        r"programs?|courses?|catalogue|catalog|videos|resources|workshops|a range|consultations)\b",
        r"\bwe (specialize|specialise) in\b",
        r"\b(we['’]ve|we have) (worked with|helped) (many|hundreds|thousands|countless|couples|clients|people)\b",
        r"\b(we['’]re|we are) here (to (help|guide|support) you|for you)\b",
        r"\bour (registered|licensed|certified|qualified|accredited)\b",
        r"\boffers (resources|services|sessions|programmes|programs|courses|packages)\b",
    ],
    "biography": [
        r"\b(has|have|with|brings)\b[^.!?]{0,20}\b\d+\+?\s+years\b[^.!?]{0,20}\b(of )?(experience|practice|"
        r"practising|practicing)\b[^.!?]*\b(couples|clients|individuals|families|therapy|counsell?ing|psycho\w*|"
        r"coach\w*|patients)\b",
        r"\b(is|as) an? (registered|licensed|certified|qualified|accredited)(\s+[\w-]+){0,3}?\s+(psychotherapist|"
        r"therapist|counsellor|counselor|psychologist|coach|social worker)\b",
        r"^(?i:s?he|they)\s+(?i:specializes|specialises|specialize|specialise) (?i:in)\b",
        r"^(?i:s?he|they)\s+(?i:holds|earned|received|completed) (?i:a|an|her|his|their) (?i:master|doctor|"
        r"bachelor|ph\.?d|degree|licen[cs]e|certificat)",
        r"^(?i:s?he|they)\s+(?i:is|are) passionate about (?i:helping)\b",
        r"^[A-Z][a-z]+(\s+[A-Z][a-z]+){1,3},?\s+(a|an|is|the)\b[^.!?]{0,60}(?i:\b(psychotherapist|therapist|"
        r"counsellor|counselor|psychologist|coach|founder|author))\b",
        r"^[A-Z][a-z]+(\s+[A-Z][a-z]+){1,3},\s+(M\.?\s?Ed|M\.?A|M\.?S|MSW|LCSW|LMFT|LPC|Ph\.?D|Psy\.?D|RP|RCC)\b",
        r"\babout the author\b",
    ],
    "about the article": [
        r"^(this|the|our|in this) (guide|article|post|blog|page|piece)\b[^.!?]{0,30}\b(explores?|covers?|looks? at|"
        r"discuss(es)?|will|we['’]ll|examines?)\b",
        r"^in this (guide|article|post|blog|piece)\b",
        r"^here,? we (look at|explore|discuss|examine)\b",
        r"^let['’]s (explore|dive|take a look|look at)\b",
        r"^we['’]ll (look at|explore|discuss|examine|cover)\b",
        r"\b(check|see|read) (the|our) (conclusion|next section|related posts?)\b",
    ],
}

# A rule that matches a name ([A-Z]) needs its capital letters and says where case doesn't matter
# with (?i:…); every other rule ignores case.
_COMPILED = [(kind, re.compile(pattern, 0 if ("[A-Z]" in pattern) else re.IGNORECASE))
             for kind, patterns in _RULES.items() for pattern in patterns]
_BUSINESS_VOICE = re.compile(r"\b(we|we['’](re|ve|ll)|our|ours|us)\b", re.IGNORECASE)


def promotional_kind(sentence: str) -> str | None:
    """Which kind of promotional text `sentence` is ("call to action", "service offer",
    "biography", "about the article"), or None when it says something."""
    text = " ".join(sentence.split())
    for kind, pattern in _COMPILED:
        if pattern.search(text):
            return kind
    return None


def promotional_spans(text: str, sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans of `sentences` (offsets into `text`, in reading order) that are promotional,
    a business-voice sentence that continues a promotional one in its paragraph included."""
    found = []
    previous_promotional = False
    previous_end = None
    for start, end in sentences:
        sentence = text[start:end]
        same_paragraph = previous_end is not None and "\n" not in text[previous_end:start]
        promotional = promotional_kind(sentence) is not None or (
            previous_promotional and same_paragraph and bool(_BUSINESS_VOICE.search(sentence)))
        if promotional:
            found.append((start, end))
        previous_promotional, previous_end = promotional, end
    return found
