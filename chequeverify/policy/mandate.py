"""Signing rules (mandates) and how a cheque's signatures satisfy them.

A mandate is written in a small language a supervisor can type::

    any one                                   # any single signatory
    any two                                   # two different signatories
    all                                       # every valid signatory
    any 1 of panel A and any 1 of panel B     # one from each panel
    up to 10000: any one; above 10000: any two

Counts are digits or the words one…ten. Amount tiers are ``up to X: RULE``
in increasing order, closed by ``above X: RULE`` (X = the last limit) or
``otherwise: RULE``. ``str(mandate)`` gives the canonical spelling that is
stored. :func:`parse_mandate` raises :class:`MandateError` with the reason
when the text is malformed.

:func:`evaluate` applies a mandate to the scores of the signatures found on
a cheque against the account's valid signatories.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from chequeverify.errors import MandateError
from chequeverify.policy.decision import Decision, Thresholds, decide, worst

_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
_NUMBER_WORDS = {v: k for k, v in _WORDS.items()}
MAX_COUNT = 10


@dataclass(frozen=True)
class Term:
    """``count`` different signatories, all from ``panel`` when one is given."""

    count: int
    panel: str | None = None

    def __str__(self) -> str:
        words = _NUMBER_WORDS.get(self.count, str(self.count))
        return f"any {words}" + (f" of panel {self.panel}" if self.panel else "")


@dataclass(frozen=True)
class Rule:
    """Either ``all`` signatories or a conjunction of :class:`Term`."""

    terms: tuple[Term, ...] = ()
    all_signatories: bool = False

    def __str__(self) -> str:
        return "all" if self.all_signatories else " and ".join(str(t) for t in self.terms)

    def required(self, valid_signatories: int) -> int:
        """How many different signatories must sign."""
        return valid_signatories if self.all_signatories else sum(t.count for t in self.terms)


@dataclass(frozen=True)
class Tier:
    """A rule for amounts up to ``limit`` inclusive (``None``: any amount above the previous tier)."""

    limit: Decimal | None
    rule: Rule


@dataclass(frozen=True)
class Mandate:
    """A parsed signing rule; ``tiers`` in increasing limits, the last unbounded."""

    tiers: tuple[Tier, ...]

    def __str__(self) -> str:
        if len(self.tiers) == 1:
            return str(self.tiers[0].rule)
        parts = []
        previous: Decimal | None = None
        for tier in self.tiers:
            if tier.limit is not None:
                parts.append(f"up to {_fmt_amount(tier.limit)}: {tier.rule}")
                previous = tier.limit
            else:
                parts.append(f"above {_fmt_amount(previous)}: {tier.rule}")  # type: ignore[arg-type]
        return "; ".join(parts)

    @property
    def by_amount(self) -> bool:
        return len(self.tiers) > 1

    def rule_for(self, amount: Decimal | None) -> tuple[Rule, str | None]:
        """The rule that applies to ``amount``, and a note when none was given for a tiered mandate.

        Without an amount a tiered mandate applies its strictest (last) tier.
        """
        if not self.by_amount:
            return self.tiers[0].rule, None
        if amount is None:
            return self.tiers[-1].rule, "no amount given: the rule for the largest amounts applies"
        for tier in self.tiers:
            if tier.limit is None or amount <= tier.limit:
                return tier.rule, None
        return self.tiers[-1].rule, None  # unreachable: the last tier is unbounded

    def panels(self) -> set[str]:
        return {t.panel for tier in self.tiers for t in tier.rule.terms if t.panel}


def _fmt_amount(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


#: an amount as written on a cheque or typed by a clerk: ASCII digits, an optional decimal point with at most
#: two decimals, and optional thousands separators in the western (10,000,000) or Indian (1,00,00,000) grouping
_AMOUNT_RE = re.compile(r"(?:\d+|\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})*,\d{3})(?:\.\d{1,2})?", re.ASCII)


def parse_amount(text: str | int | float | Decimal) -> Decimal:
    """``"10,000.50"``, ``"1,00,000"``, ``10000`` → ``Decimal``.

    Raises :class:`MandateError` for anything else: a negative or
    non-finite number, an exponent, more than two decimals, a decimal comma
    (``"25.000,00"`` would otherwise read as 25 and choose the wrong tier of
    a mandate) or digits of another script.
    """
    if isinstance(text, bool):
        raise MandateError(f"{text!r} is not an amount.")
    if isinstance(text, (int, Decimal)) and not isinstance(text, bool):
        raw = format(Decimal(text), "f")
    elif isinstance(text, float):
        if not math.isfinite(text):
            raise MandateError(f"{text!r} is not an amount.", hint="Amounts are non-negative numbers.")
        raw = format(Decimal(repr(text)), "f")
    else:
        raw = str(text).strip()
    if raw.startswith("-"):
        raise MandateError(f"{text!r} is not an amount.", hint="Amounts are non-negative numbers.")
    if not _AMOUNT_RE.fullmatch(raw):
        raise MandateError(f"{text!r} is not an amount.",
                           hint="Write it like 1250.00 or 10,000.50 (a decimal point, at most two decimals).")  # fmt: skip
    value = Decimal(raw.replace(",", ""))
    if value == 0:
        raise MandateError(f"{text!r} is not a cheque's amount.", hint="A cheque is for more than nothing.")
    return value


_TERM_RE = re.compile(r"^any\s+(\w+)(?:\s+(?:of|from)\s+panel\s+([\w\-]+))?$")


def _parse_rule(text: str, whole: str) -> Rule:
    text = " ".join(text.lower().split())
    if not text:
        raise MandateError(f"Mandate {whole!r} has an empty rule.")
    if text in ("all", "all signatories", "jointly"):
        return Rule(all_signatories=True)
    terms = []
    for part in re.split(r"\s+and\s+|\s*\+\s*", text):
        m = _TERM_RE.match(part.strip())
        if not m:
            raise MandateError(
                f"Cannot read {part.strip()!r} in mandate {whole!r}.",
                hint="Write e.g. 'any one', 'any two', 'all', 'any 1 of panel A and any 1 of panel B', "
                "or 'up to 10000: any one; above 10000: any two'.",
            )
        word, panel = m.group(1), m.group(2)
        count = _WORDS.get(word) if not word.isdigit() else int(word)
        if count is None or not 1 <= count <= MAX_COUNT:
            raise MandateError(f"{word!r} in mandate {whole!r} is not a count from 1 to {MAX_COUNT}.")
        terms.append(Term(count, panel.upper() if panel else None))
    return Rule(terms=tuple(terms))


def parse_mandate(text: str) -> Mandate:
    """Mandate text → :class:`Mandate`; raises :class:`MandateError` saying what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise MandateError("The mandate is empty.", hint="Write e.g. 'any one'.")
    whole = text.strip()
    parts = [p.strip() for p in whole.split(";")]
    if len(parts) == 1 and ":" not in parts[0]:
        return Mandate((Tier(None, _parse_rule(parts[0], whole)),))
    tiers: list[Tier] = []
    previous: Decimal | None = None
    closed = False
    for part in parts:
        if closed:
            raise MandateError(f"In mandate {whole!r}, nothing may follow the 'above' or 'otherwise' tier.")
        head, sep, body = part.partition(":")
        if not sep:
            raise MandateError(f"Tier {part!r} of mandate {whole!r} lacks ':' (write 'up to 10000: any one').")
        head = " ".join(head.lower().split())
        rule = _parse_rule(body, whole)
        if head.startswith("up to "):
            limit = parse_amount(head[6:])
            if previous is not None and limit <= previous:
                raise MandateError(f"In mandate {whole!r}, amount limits must increase ({limit} after {previous}).")
            tiers.append(Tier(limit, rule))
            previous = limit
        elif head.startswith("above ") or head in ("otherwise", "above"):
            if previous is None:
                raise MandateError(f"Mandate {whole!r} has an 'above' tier without an 'up to' tier before it.")
            if head.startswith("above "):
                at = parse_amount(head[6:])
                if at != previous:
                    raise MandateError(
                        f"In mandate {whole!r}, 'above {_fmt_amount(at)}' must follow 'up to {_fmt_amount(at)}' "
                        f"(the last limit is {_fmt_amount(previous)})."
                    )
            tiers.append(Tier(None, rule))
            closed = True
        else:
            raise MandateError(f"Tier {part!r} of mandate {whole!r} must start with 'up to X:' or 'above X:'.")
    if not closed:
        raise MandateError(
            f"Mandate {whole!r} does not say what applies above {_fmt_amount(previous)}.",  # type: ignore[arg-type]
            hint=f"End it with '; above {_fmt_amount(previous)}: any two' (or the rule you want).",  # type: ignore[arg-type]
        )
    return Mandate(tuple(tiers))


# --- applying a mandate ----------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """A signatory as the policy sees it: an id, a panel and its (adapted) thresholds."""

    id: int
    name: str
    panel: str | None
    thresholds: Thresholds


@dataclass(frozen=True)
class SignatureOutcome:
    """Who a signature on the cheque was attributed to and what that means.

    ``signer_id`` is None when there were more signatures than signatories.
    """

    index: int
    signer_id: int | None
    score: float
    decision: Decision


@dataclass(frozen=True)
class MandateResult:
    """The decision for a cheque under its account's mandate.

    ``met``: enough different authorised signatories accepted; ``rule``: the
    rule that applied (canonical text); ``required``: how many different
    signatories it needs; ``reasons``: plain sentences for the clerk.
    """

    decision: Decision
    met: bool
    rule: str
    required: int
    outcomes: tuple[SignatureOutcome, ...]
    reasons: tuple[str, ...] = field(default=())


def check_feasible(mandate: Mandate, signers: Sequence[Signer], amount: Decimal | None = None) -> None:
    """Raise :class:`MandateError` when the valid signatories cannot satisfy the rule at all."""
    rule, no_amount = mandate.rule_for(amount)
    try:
        _check_rule_feasible(rule, signers)
    except MandateError as exc:
        if no_amount and signers:
            # the clerk can do something about it: the rule for smaller amounts may be met
            raise MandateError(f"{exc.message} The mandate depends on the amount ({mandate}); {no_amount}.",
                               hint="Give the cheque's amount.") from None  # fmt: skip
        raise


def _check_rule_feasible(rule: Rule, signers: Sequence[Signer]) -> None:
    if not signers:
        raise MandateError(
            "The account has no valid signatory with approved references.",
            hint="A supervisor must register a signatory (within its validity dates) and approve its references.",
        )
    if rule.all_signatories:
        return
    panels = Counter(s.panel for s in signers)
    need_by_panel = Counter()
    for term in rule.terms:
        if term.panel:
            need_by_panel[term.panel] += term.count
    for panel, need in need_by_panel.items():
        if panels.get(panel, 0) < need:
            raise MandateError(
                f"The mandate '{rule}' needs {need} signatories of panel {panel}; the account has "
                f"{panels.get(panel, 0)} valid one(s)."
            )
    if rule.required(len(signers)) > len(signers):
        raise MandateError(
            f"The mandate '{rule}' needs {rule.required(len(signers))} different signatories; the account has "
            f"{len(signers)} valid one(s).",
            hint="Register more signatories or change the mandate.",
        )


def _satisfies(rule: Rule, accepted: Sequence[Signer], all_signers: Sequence[Signer]) -> bool:
    ids = {s.id for s in accepted}
    if rule.all_signatories:
        return all(s.id in ids for s in all_signers)
    by_panel = Counter(s.panel for s in accepted)
    spare = len(ids)
    for term in rule.terms:
        if term.panel:
            if by_panel[term.panel] < term.count:
                return False
            by_panel[term.panel] -= term.count
            spare -= term.count
    return spare >= sum(t.count for t in rule.terms if not t.panel)


#: beyond this many assignments, attribute each signature to its best signer greedily
_MAX_ASSIGNMENTS = 20_000


def _assignments(n_signatures: int, n_signers: int):
    slots = list(range(n_signers)) + [None] * max(0, n_signatures - n_signers)
    if _count_perm(len(slots), n_signatures) > _MAX_ASSIGNMENTS:
        return None
    return set(itertools.permutations(slots, n_signatures))


def _count_perm(n: int, k: int) -> int:
    out = 1
    for i in range(k):
        out *= n - i
    return out


def evaluate(
    mandate: Mandate,
    signers: Sequence[Signer],
    scores: Sequence[Sequence[float]],
    amount: Decimal | None = None,
) -> MandateResult:
    """Decide a cheque.

    ``signers``: the account's valid signatories (M); ``scores``: one row
    per signature found on the cheque (S), one score per signer (S×M).
    Each signature is attributed to a different signer, choosing the
    attribution with the most ACCEPTs and then the highest total margin over
    the accept thresholds. The cheque is REJECT when any signature is
    rejected (it belongs to none of the authorised signatories), ACCEPT when
    every signature is accepted and the accepted signers satisfy the rule,
    and REFER otherwise (a human looks: a grey-zone score, a missing
    second signature, the same hand twice).

    Raises :class:`MandateError` when the rule cannot be met by ``signers``
    (see :func:`check_feasible`) or the scores do not have S×M shape.
    """
    check_feasible(mandate, signers, amount)
    rule, note = mandate.rule_for(amount)
    required = rule.required(len(signers))
    rows = [list(map(float, r)) for r in scores]
    if any(len(r) != len(signers) for r in rows):
        raise MandateError("Internal error: one score per signatory is needed for each signature.")
    reasons: list[str] = [note] if note else []
    if not rows:
        return MandateResult(Decision.REFER, False, str(rule), required, (), ("no signature found on the cheque",))

    def outcome(i: int, j: int | None) -> SignatureOutcome:
        if j is None:  # more signatures than signers: judge against the best anyway
            best = max(range(len(signers)), key=lambda k: rows[i][k])
            return SignatureOutcome(i, None, rows[i][best], decide(rows[i][best], signers[best].thresholds))
        return SignatureOutcome(i, signers[j].id, rows[i][j], decide(rows[i][j], signers[j].thresholds))

    def margin(i: int, j: int | None) -> float:
        return -1e9 if j is None else rows[i][j] - signers[j].thresholds.accept

    candidates = _assignments(len(rows), len(signers))
    if candidates is None:
        chosen = [max(range(len(signers)), key=lambda j: margin(i, j)) for i in range(len(rows))]
    else:
        def key(assign):
            outs = [outcome(i, j) for i, j in enumerate(assign)]
            accepts = sum(o.decision is Decision.ACCEPT for o in outs)
            return (accepts, sum(margin(i, j) for i, j in enumerate(assign)))

        chosen = list(max(sorted(candidates, key=lambda a: tuple(-1 if x is None else x for x in a)), key=key))
    outcomes = tuple(outcome(i, j) for i, j in enumerate(chosen))
    by_id = {s.id: s for s in signers}
    accepted = [by_id[o.signer_id] for o in outcomes if o.decision is Decision.ACCEPT and o.signer_id is not None]
    met = _satisfies(rule, accepted, signers)
    combined = worst([o.decision for o in outcomes])
    if combined is Decision.REJECT:
        decision = Decision.REJECT
        reasons.append("a signature does not match any authorised signatory")
    elif combined is Decision.ACCEPT and met:
        decision = Decision.ACCEPT
    else:
        decision = Decision.REFER
        if combined is Decision.REFER:
            reasons.append("a signature scores in the grey zone")
        if len(rows) < required:
            reasons.append(
                f"the mandate '{rule}' needs {required} different signatories; "
                f"{len(rows)} signature{'s' if len(rows) != 1 else ''} found"
            )
        elif combined is Decision.ACCEPT and not met:
            found = len({s.id for s in accepted})
            reasons.append(
                f"the mandate '{rule}' is not met: {found} different signator{'y' if found == 1 else 'ies'} "
                f"accepted, {required} needed"
            )
    return MandateResult(decision, met, str(rule), required, outcomes, tuple(reasons))
