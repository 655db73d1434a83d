"""What the safety layer says about a question, as small records with a JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field

# The kinds of danger recognised, most urgent first: when a question raises several, the notice
# opens with the first of them and lists the help for each.
CONCERNS = ("self_harm", "child", "harm_to_others", "abuse")
NONE = "none"  # the label of a question that raises no concern (test sets, feedback)


@dataclass(frozen=True)
class Resource:
    """Where to find help: a named service, how to reach it, where it serves, and where the
    number was found (the organisation's page) and when it was last checked."""

    name: str
    contact: str
    region: str  # an ISO country code ("US", "GB") or "*" for everywhere
    source: str
    checked: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "contact": self.contact, "region": self.region, "source": self.source}


@dataclass(frozen=True)
class Evidence:
    """Why a concern was raised: the pattern or the classifier, the sentence, and its score."""

    concern: str
    means: str  # "pattern:<name>" or "classifier"
    text: str
    score: float = 1.0


@dataclass(frozen=True)
class Assessment:
    """The safety reading of a question: the concerns it raises (those a pattern found first, most
    urgent first; then those only the classifier raised, most probable first), the classifier's
    probability for each concern, and the evidence behind each raised one."""

    concerns: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.concerns)

    @property
    def concern(self) -> str | None:
        return self.concerns[0] if self.concerns else None


@dataclass(frozen=True)
class SafetyNotice:
    """What opens an answer to a question that discloses danger: a calm message and where to find help."""

    concern: str
    message: str
    resources: tuple[Resource, ...]
    concerns: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"concern": self.concern, "concerns": list(self.concerns or (self.concern,)),
                "message": self.message, "resources": [r.to_dict() for r in self.resources]}

    def text(self) -> str:
        """The notice as plain text: the message, then one line a resource."""
        lines = [self.message]
        lines += [f"• {r.name}: {r.contact}" for r in self.resources]
        return "\n".join(lines)
