"""Scores to decisions: thresholds, the grey zone, per-signatory adaptation.

A *score* is the model's decision score of a query signature against one
signatory's references: larger means more likely genuine. Its scale is the
model's; this module never assumes one, it only compares with thresholds
that came with the model (or a supervisor's override).
"""

from __future__ import annotations

import enum
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from chequeverify.errors import InvalidInput


class Decision(str, enum.Enum):
    """What happens to a cheque. A ``str`` so it prints, compares and stores as its name."""

    ACCEPT = "ACCEPT"
    REFER = "REFER"
    REJECT = "REJECT"

    @classmethod
    def parse(cls, text: str) -> Decision:
        """``"accept"`` / ``"ACCEPT"`` / a :class:`Decision` → the member; raises :class:`InvalidInput`."""
        try:
            return cls(str(text).strip().upper())
        except ValueError:
            raise InvalidInput(
                f"Unknown decision {text!r}.", hint="Use ACCEPT, REFER or REJECT."
            ) from None

    @property
    def severity(self) -> int:
        """0 for ACCEPT, 1 for REFER, 2 for REJECT (to combine decisions: the worst wins)."""
        return _SEVERITY[self]

    def __str__(self) -> str:
        return self.value


_SEVERITY = {Decision.ACCEPT: 0, Decision.REFER: 1, Decision.REJECT: 2}


@dataclass(frozen=True)
class Thresholds:
    """The two decision thresholds on the model's score.

    ``score >= accept`` → ACCEPT; ``score < reject`` → REJECT; between → REFER
    (the grey zone a human looks at). ``accept >= reject`` always.
    """

    accept: float
    reject: float

    def __post_init__(self) -> None:
        for name in ("accept", "reject"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InvalidInput(f"The {name} threshold must be a finite number, got {value!r}.")
        if self.accept < self.reject:
            raise InvalidInput(
                f"The accept threshold ({self.accept:g}) is below the reject threshold ({self.reject:g}).",
                hint="Accept must be greater than or equal to reject; between them cheques are referred.",
            )

    @property
    def grey_zone(self) -> float:
        """Width of the referral band, ``accept - reject`` (score units)."""
        return self.accept - self.reject

    def shifted(self, delta: float) -> Thresholds:
        return Thresholds(self.accept + delta, self.reject + delta)


def decide(score: float, thresholds: Thresholds) -> Decision:
    """One score against one pair of thresholds → ACCEPT, REFER or REJECT.

    A non-finite score (NaN: the model could not compare) is referred to a human.
    """
    if not math.isfinite(score):
        return Decision.REFER
    if score >= thresholds.accept:
        return Decision.ACCEPT
    if score < thresholds.reject:
        return Decision.REJECT
    return Decision.REFER


def worst(decisions: Sequence[Decision]) -> Decision:
    """The most severe of some decisions (REJECT > REFER > ACCEPT); ACCEPT for none."""
    return max(decisions, key=lambda d: d.severity, default=Decision.ACCEPT)


#: fewer references than this and the thresholds are not adapted (too little evidence)
MIN_REFERENCES_TO_ADAPT = 3
#: how far thresholds may move, as fractions of the grey zone's width
MAX_LOOSEN = 0.5
MAX_TIGHTEN = 0.25


@dataclass(frozen=True)
class Adaptation:
    """Thresholds adapted to one signatory, and why."""

    thresholds: Thresholds
    shift: float
    typical_score: float | None
    reason: str


def adapt_thresholds(base: Thresholds, reference_scores: Sequence[float]) -> Adaptation:
    """Adapt the thresholds to one signatory from the spread of its references — never making ACCEPT easier.

    ``reference_scores``: the leave-one-out scores of the signatory's
    references (each reference scored against the others), i.e. what
    genuine signatures of this writer typically score.

    The rule aims for the writer's median leave-one-out score ``m`` to sit
    half a grey zone above the accept threshold, ``wanted = m - accept - w/2``
    (``w`` the grey zone's width), and moves *one* threshold only, so that
    adaptation can only turn decisions into REFER, never into ACCEPT:

    * a variable hand (``wanted < 0``): the **reject** threshold goes down by
      ``|wanted|``, at most ``MAX_LOOSEN·w`` — its genuine cheques that score
      low are referred to a human instead of rejected;
    * a consistent hand (``wanted > 0``): the **accept** threshold goes up by
      ``wanted``, at most ``MAX_TIGHTEN·w`` — a forgery of a steady hand must
      come closer to be accepted.

    No change with fewer than :data:`MIN_REFERENCES_TO_ADAPT` references or
    an empty grey zone.
    """
    scores = [float(s) for s in reference_scores if math.isfinite(s)]
    width = base.grey_zone
    if len(scores) < MIN_REFERENCES_TO_ADAPT:
        return Adaptation(base, 0.0, None, f"not adapted: fewer than {MIN_REFERENCES_TO_ADAPT} references")
    typical = statistics.median(scores)
    if width <= 0:
        return Adaptation(base, 0.0, typical, "not adapted: the grey zone is empty")
    wanted = typical - base.accept - width / 2
    shift = min(max(wanted, -MAX_LOOSEN * width), MAX_TIGHTEN * width)
    if abs(shift) < 1e-12:
        return Adaptation(base, 0.0, typical, "not adapted: references sit where expected")
    if shift < 0:
        adapted = Thresholds(base.accept, base.reject + shift)
        return Adaptation(adapted, shift, typical, f"variable hand: reject threshold lowered by {-shift:.4g}")
    adapted = Thresholds(base.accept + shift, base.reject)
    return Adaptation(adapted, shift, typical, f"consistent hand: accept threshold raised by {shift:.4g}")
