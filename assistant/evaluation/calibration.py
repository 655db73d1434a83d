"""Declining thresholds chosen from the top scores of answerable and unanswerable questions.

An answer is declined (or given the closest passage only) when its top score is below the
confident threshold. Every cut between two neighbouring top scores of a test set is an operating
point: the share of unanswerable questions it declines and the share of answerable ones it
declines with them. `choose` takes the point that declines the most unanswerable questions while
declining at most `max_wrongly` of the answerable ones; below the lowest answerable score (less a
margin) the answer is a plain "not covered". Answers declined whatever the thresholds (a question
asking for an amount that no quote states) count as declined at every cut.
"""

from __future__ import annotations

from dataclasses import dataclass

from index import Calibration

MARGIN = 0.02  # how far under the lowest answerable top score the plain decline starts


class CalibrationError(ValueError):
    """The test set can't place a threshold (it lacks answerable or unanswerable questions)."""


@dataclass(frozen=True)
class OperatingPoint:
    threshold: float  # top scores below this are declined
    declined_unanswerable: float
    wrongly_declined: float


def _score(row: dict) -> float:
    # An answer declined whatever the thresholds (it asked for an amount no quote states) sits
    # below every cut.
    return float("-inf") if row.get("missing_amount") else row["relevance"]


def _scores(rows: list[dict]) -> tuple[list[float], list[float]]:
    answerable = sorted(_score(r) for r in rows if r["answerable"])
    unanswerable = sorted(_score(r) for r in rows if not r["answerable"])
    if not answerable or not unanswerable:
        raise CalibrationError("calibrating needs answerable and unanswerable questions (\"answerable\": false); "
                               f"this test set has {len(answerable)} and {len(unanswerable)}")
    return answerable, unanswerable


def _lowest(scores: list[float]) -> float:
    return min((s for s in scores if s != float("-inf")), default=0.0)


def _point(answerable: list[float], unanswerable: list[float], cut: float) -> OperatingPoint:
    return OperatingPoint(cut, sum(s < cut for s in unanswerable) / len(unanswerable),
                          sum(s < cut for s in answerable) / len(answerable))


def point_at(rows: list[dict], cut: float) -> OperatingPoint:
    return _point(*_scores(rows), cut)


def operating_points(rows: list[dict]) -> list[OperatingPoint]:
    """One point per cut: below the lowest score, between each two neighbouring scores, above the highest."""
    answerable, unanswerable = _scores(rows)
    values = sorted(set(answerable + unanswerable) - {float("-inf")}) or [0.0]
    cuts = [values[0] - MARGIN] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + MARGIN]
    return [_point(answerable, unanswerable, cut) for cut in cuts]


def frontier(rows: list[dict]) -> list[OperatingPoint]:
    """The points worth choosing between: those that decline fewer answerable questions than every
    cut declining more unanswerable ones (of equal points, the lowest cut)."""
    kept: list[OperatingPoint] = []
    by_declined = sorted(operating_points(rows),
                         key=lambda p: (-p.declined_unanswerable, p.wrongly_declined, p.threshold))
    for point in by_declined:
        if not kept or point.wrongly_declined < kept[-1].wrongly_declined:
            kept.append(point)
    return kept[::-1]


def choose(rows: list[dict], *, max_wrongly: float, testset: str) -> Calibration:
    """The thresholds that decline the most unanswerable questions with at most `max_wrongly` of
    the answerable ones declined or given the closest passage only."""
    answerable, unanswerable = _scores(rows)
    allowed = [p for p in frontier(rows) if p.wrongly_declined <= max_wrongly + 1e-12]
    point = max(allowed, key=lambda p: (p.declined_unanswerable, -p.threshold))  # the lowest cut always fits
    return Calibration(min_relevance=min(point.threshold, _lowest(answerable) - MARGIN),
                       confident_relevance=point.threshold, testset=testset, answerable=len(answerable),
                       unanswerable=len(unanswerable), max_wrongly=max_wrongly,
                       declined_unanswerable=point.declined_unanswerable, wrongly_declined=point.wrongly_declined)
