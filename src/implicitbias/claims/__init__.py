"""Claims: a statement from a seed or a paper, a measured quantity, a criterion, and the
verdict the lab expects."""

from implicitbias.claims.claim import Claim, Criterion, Outcome, combine, evaluate

__all__ = ["Claim", "Criterion", "Outcome", "combine", "evaluate"]
