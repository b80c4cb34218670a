"""One module per phenomenon, and the registry that names them."""

from implicitbias.experiments.registry import (
    Experiment,
    all_claims,
    experiments,
    get_experiment,
    register,
)

__all__ = ["Experiment", "all_claims", "experiments", "get_experiment", "register"]
