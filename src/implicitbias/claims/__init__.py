"""Claims: a statement from a seed or a paper, a measured quantity, and a criterion."""

from implicitbias.claims.claim import Claim, Criterion, Outcome, evaluate

__all__ = ["Claim", "Criterion", "Outcome", "evaluate"]
