"""policy: turning scores into decisions (stdlib only; see DESIGN.md).

* :class:`Decision`, :class:`Thresholds`, :func:`decide` — one score, two
  thresholds, a grey zone that refers to a human;
* :func:`adapt_thresholds` — per-signatory thresholds from the spread of
  its references;
* :func:`parse_mandate`, :func:`evaluate` — signing rules (any one, any two,
  all, by panel, by amount) applied to a cheque's signatures.
"""

from chequeverify.policy.decision import (
    Adaptation,
    Decision,
    Thresholds,
    adapt_thresholds,
    decide,
    worst,
)
from chequeverify.policy.mandate import (
    Mandate,
    MandateResult,
    Rule,
    SignatureOutcome,
    Signer,
    Term,
    Tier,
    check_feasible,
    evaluate,
    parse_amount,
    parse_mandate,
)

__all__ = [
    "Adaptation", "Decision", "Mandate", "MandateResult", "Rule", "SignatureOutcome", "Signer",
    "Term", "Thresholds", "Tier", "adapt_thresholds", "check_feasible", "decide", "evaluate",
    "parse_amount", "parse_mandate", "worst",
]  # fmt: skip
