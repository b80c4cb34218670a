"""Grokking: memorize modular arithmetic first, generalize much later (weight decay).

Command::

    implicitbias run grokking                     # MLP, (a + b) mod 97, 50 % train, with a
                                                  # no-weight-decay control: ~5 min
    implicitbias run grokking --preset quick      # default MLP at lr 3e-3, 1200 steps, 3 inits
    implicitbias run grokking --preset grokfast   # Grokfast EMA and MA vs the AdamW baseline
    implicitbias run grokking --preset phase      # train fraction x weight decay (p = 59)
    implicitbias run grokking --preset paper      # Nanda et al.'s transformer, p = 113, 30 %
    implicitbias run grokking --preset power      # Power et al.'s a / b mod 97, 50 % train
    implicitbias run grokking --set optimizer=lion --set optimizer.weight_decay=0.3

Setting: every pair ``(a, b)`` of ``a o b mod p`` (p prime), a random train part (a key
split), the rest is the test set (:mod:`implicitbias.datasets.modular`). A two-layer MLP
on learned embeddings or the one-layer transformer of Nanda et al. (2023), trained on the
cross-entropy (:mod:`implicitbias.problems.modular`) full batch in float32 with the
``optimizer`` field, by default ``adamw(b2=0.98, weight_decay=1.0)`` (betas 0.9, 0.98)
at lr 1e-3.
Metrics at log-spaced and linear steps: train/test loss and accuracy and the parameter
norm; the first logged steps at which train and test accuracy reach 99 % give the
grokking delay and ratio.

Sub-studies, one module each: :mod:`.main` (the run and its no-weight-decay control, one
program), :mod:`.progress` (Fourier progress measures), :mod:`.grokfast` (Grokfast against
the same AdamW without the filter), :mod:`.phase` (train fraction x weight decay);
:mod:`.claims` says which claims apply to which optimizers.

Theory: Power et al. (2022) found that small networks on such tables fit the training set
long before they generalize, and that weight decay shortens the delay the most. Nanda et
al. (2023, ICLR) reverse-engineered the generalizing solution for ``a + b``: a few key
Fourier frequencies, measured by the restricted and excluded losses
(:mod:`implicitbias.diagnostics.fourier`). Liu et al. (2022, Omnigrok) tie the delay to the
weight norm: memorizing solutions have a large norm, weight decay shrinks it until only
the low-norm generalizing one fits. Lee et al. (2024, Grokfast) amplify the slow part of
the gradient (:mod:`implicitbias.optim.grokfast`) to generalize in fewer steps.

Expected outcome (``default``): train accuracy reaches 99 % at step ~170, test accuracy at
~2550 (ratio 15) while the parameter norm falls by ~30 %; without weight decay test
accuracy stays at chance within the same budget. On ``quick`` (3x the learning rate,
three inits) the ratio is 12-14. Grokfast does not beat this baseline (0.78x, 0.84x).
With an optimizer that has no weight decay (``lion`` by default, a user's
``module:factory``) the control, the norm claim and the phase diagram do not apply. The
measured numbers are in docs/experiments/grokking.md.
"""

from __future__ import annotations

import jax

from implicitbias.datasets.modular import modular_data
from implicitbias.experiments.grokking import grokfast, phase, progress
from implicitbias.experiments.grokking.claims import CLAIMS, KEYS
from implicitbias.experiments.grokking.config import GrokkingConfig
from implicitbias.experiments.grokking.main import has_control, run_main
from implicitbias.experiments.grokking.training import NAME
from implicitbias.experiments.registry import Experiment, register
from implicitbias.runs.results import Results


def run(cfg: GrokkingConfig) -> Results:
    """Train, measure the grokking numbers, progress measures, Grokfast, phase diagram."""
    results = Results()
    k_data, k_model, k_sample = jax.random.split(jax.random.PRNGKey(cfg.seed), 3)
    data = modular_data(cfg.operation, cfg.p, cfg.train_fraction, k_data)
    results.scalars["data"] = {
        "pairs": int(len(data.answers)),
        "train": int(len(data.train)),
        "test": int(len(data.test)),
        "chance": 1.0 / cfg.p,
    }
    seed_keys = jax.random.split(k_model, cfg.num_seeds)
    measure = progress.applies(cfg)
    main = run_main(cfg, data, seed_keys, k_sample, results, keep_params=measure)
    if measure:
        summary, arrays = progress.progress(
            cfg, data, main.static, main.traj.snapshots, main.traj.params
        )
        results.scalars["progress"] = summary
        results.arrays.update(arrays)
    if cfg.grokfast != "off":
        grokfast.run_grokfast(cfg, data, seed_keys, main, results, k_sample)
    if phase.applies(cfg):
        phase.run_phase(cfg, k_data, k_model, results)
    skipped = _skipped(cfg)
    if skipped:
        results.scalars["skipped"] = skipped
    return results


def _skipped(cfg: GrokkingConfig) -> dict[str, str]:
    """Parts asked for that the optimizer has no axis for (no weight decay to vary)."""
    why = f"{cfg.optimizer.label} has no positive weight decay"
    out = {}
    if cfg.no_wd_control and not has_control(cfg):
        out["no_wd_control"] = why
    if cfg.phase and not phase.applies(cfg):
        out["phase"] = f"{cfg.optimizer.label} takes no weight_decay"
    return out


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="grokking on modular arithmetic: memorize first, generalize later",
        config_cls=GrokkingConfig,
        run=run,
        plots="implicitbias.experiments.grokking.plots",
        claims=CLAIMS,
        keys=KEYS,
        doc=__doc__ or "",
    )
)

__all__ = ["CLAIMS", "EXPERIMENT", "KEYS", "GrokkingConfig", "run"]
