"""The implicit-bias profile of any optimizer: which solution does it prefer?

Command::

    implicitbias profile gd adam lion                      # the quick level, ~1 min
    implicitbias profile "adam:b2=0.99" mypkg.opt:make --level full --seeds 8
    implicitbias run profile --set "optimizers=gd,sign_gd,muon"   # the same, as a run

For each optimizer, every probe of the level trains one batch (every seed or dataset, and
every grid step of the step-size rule, in one compiled program) and compares what the
optimizer found with a reference computed independently of the training:

==================  =====================================================================
probe               measured against
==================  =====================================================================
margin-vectors      the l1, l2, l_inf max-margin directions (cvxpy) on separable data
margin-matrices     the spectral, Frobenius and max-norm max-margin matrices (cvxpy)
interpolation       the min-l2 interpolator, and the min-l_p one for p-norm GD (cvxpy)
sparsity            the min-l1 and min-l2 interpolators of a diagonal linear network
rank                the nuclear-norm minimizer of a matrix completion (cvxpy)
stability           2/eta (sharpness), and 38/eta for Adam's preconditioned sharpness
flatness            the fraction of starts in the flat basin of the flat/sharp landscape
grokking            (full level) steps to 99% test accuracy, and to 99% train accuracy
==================  =====================================================================

Each probe documents its step-size rule (``implicitbias.experiments.profile.base``: by
default half the largest step of a log grid at which every seed fits), so a user's
optimizer is not judged on an untuned step; the card of each optimizer says which step
ran. Each entry is a mean over seeds with its spread (sample standard deviation) and the
per-seed values. The run folder holds the table (``results.json``: ``probes.<probe>.
optimizers.<key>``), a heatmap and small multiples, and one self-contained HTML card per
optimizer (``cards/<key>.html``).

Expected outcome (measured, see docs/experiments/profile.md): GD and heavy ball reach the
min-l2 interpolator from zero; sign GD and Adam do not. The claims below check the
directions that theory predicts, each only when its optimizer is in the list.
"""

from __future__ import annotations

import re

from implicitbias.experiments.profile.base import fixed_step
from implicitbias.experiments.profile.claims import CLAIMS, KEYS
from implicitbias.experiments.profile.config import NAME, ProfileConfig
from implicitbias.experiments.profile.probes import PROBES, get_probe, probes_for
from implicitbias.experiments.registry import Experiment, register
from implicitbias.optim.spec import OptimizerSpec
from implicitbias.runs.results import Results


def optimizer_keys(specs: tuple[OptimizerSpec, ...]) -> dict[str, OptimizerSpec]:
    """Results key -> spec: the label with every run of other characters made ``_``
    (``adam(b2=0.99)`` -> ``adam_b2_0_99``), made unique with a suffix."""
    out: dict[str, OptimizerSpec] = {}
    for spec in specs:
        base = re.sub(r"[^0-9A-Za-z]+", "_", spec.label).strip("_") or "optimizer"
        key, i = base, 2
        while key in out:
            key, i = f"{base}_{i}", i + 1
        out[key] = spec
    return out


def run(cfg: ProfileConfig) -> Results:
    """Every probe of the level on every optimizer; numbers only."""
    results = Results()
    keys = optimizer_keys(cfg.optimizers)
    probes = probes_for(cfg.level, cfg.probes)
    results.scalars["optimizers"] = {
        key: {
            "label": spec.label,
            "spec": spec.to_json(),
            "learning_rate": (cfg.learning_rates[i] if cfg.learning_rates else 0.0) or None,
        }
        for i, (key, spec) in enumerate(keys.items())
    }
    results.scalars["level"] = cfg.level
    results.scalars["seeds"] = cfg.seeds
    table = results.scalars["probes"] = {}
    for probe in probes:
        entry = table[probe.name] = {
            "title": probe.title,
            "rule": probe.rule,
            "source": probe.source,
            "optimizers": {},
        }
        for i, (key, spec) in enumerate(keys.items()):
            fixed = cfg.learning_rates[i] if cfg.learning_rates else 0.0
            with fixed_step(fixed or None):
                report = probe.measure(cfg, spec, f"{NAME}: {probe.name} / {spec.label}")
            entry["optimizers"][key] = report.to_scalars()
            for name, array in report.arrays.items():
                results.arrays[f"{probe.name}/{key}/{name}"] = array
    return results


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="The implicit-bias fingerprint of any optimizer, probe by probe",
        config_cls=ProfileConfig,
        run=run,
        plots="implicitbias.experiments.profile.plots",
        pages="implicitbias.experiments.profile.cards",
        claims=CLAIMS,
        keys=KEYS,
        doc=__doc__ or "",
    )
)

__all__ = [
    "CLAIMS",
    "EXPERIMENT",
    "KEYS",
    "NAME",
    "PROBES",
    "ProfileConfig",
    "get_probe",
    "optimizer_keys",
    "probes_for",
    "run",
]
