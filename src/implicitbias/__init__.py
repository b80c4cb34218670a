"""implicitbias: a lab for the implicit bias of optimizers.

The Python API in five lines::

    import implicitbias as ib
    res = ib.run("min-norm", preset="default", overrides={"optimizer": "adam(b2=0.99)"})
    print(res.get("pinv.relative_distance"), res.path)
    report = ib.verify("quick")
    same = ib.load(res.path)
"""

from __future__ import annotations

__version__ = "0.1.0"

from implicitbias.claims import Claim, Criterion, Outcome  # noqa: E402
from implicitbias.config import Config, optimizer_param, optimizers_param, param  # noqa: E402
from implicitbias.engine import (  # noqa: E402
    Minibatch,
    Probe,
    Sampler,
    Trajectory,
    log_points,
    train,
)
from implicitbias.errors import ConfigError, DivergenceError, ImplicitBiasError  # noqa: E402
from implicitbias.experiments.registry import experiments as list_experiments  # noqa: E402
from implicitbias.experiments.registry import get_experiment  # noqa: E402
from implicitbias.lab import make_config, profile, resume, run, run_from, verify  # noqa: E402
from implicitbias.optim.spec import OptimizerSpec  # noqa: E402
from implicitbias.report.compare import compare  # noqa: E402
from implicitbias.runs import Results, load  # noqa: E402
from implicitbias.sweep import load_sweep, resume_sweep  # noqa: E402
from implicitbias.sweep import run_sweep as sweep  # noqa: E402

__all__ = [
    "Claim",
    "Config",
    "ConfigError",
    "Criterion",
    "DivergenceError",
    "ImplicitBiasError",
    "Minibatch",
    "OptimizerSpec",
    "Outcome",
    "Probe",
    "Results",
    "Sampler",
    "Trajectory",
    "__version__",
    "compare",
    "get_experiment",
    "list_experiments",
    "load",
    "log_points",
    "make_config",
    "optimizer_param",
    "optimizers_param",
    "param",
    "profile",
    "resume",
    "run",
    "run_from",
    "load_sweep",
    "resume_sweep",
    "sweep",
    "train",
    "verify",
]
