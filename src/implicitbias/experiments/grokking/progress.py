"""Progress measures of Nanda et al. (2023, ICLR, section 5) on the logged snapshots.

For ``a + b`` and ``a - b`` (answers that depend on ``a ± b``): the *key frequencies* are
those with a share of the final embedding's Fourier energy at least ``key_factor`` times
that of a flat spectrum; the **restricted loss** keeps only the constant and the
:math:`\\cos/\\sin(\\omega_k (a \\pm b))` components of the logits (all pairs), the
**excluded loss** removes them (training pairs); both, and the key-frequency share of the
embedding, are measured at every logged step of member 0 (:mod:`implicitbias.diagnostics.fourier`).
These are measurements on saved parameters, not training.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from implicitbias.datasets.modular import ModularData
from implicitbias.diagnostics import fourier
from implicitbias.experiments.grokking.config import GrokkingConfig

FOURIER_OPS = {"add": 1, "sub": -1}
"""Operations whose answer depends on ``a + sign * b``."""


def applies(cfg: GrokkingConfig) -> bool:
    """Whether the progress measures are asked for and defined for the operation."""
    return cfg.progress_measures and cfg.operation in FOURIER_OPS


def progress(
    cfg: GrokkingConfig, data: ModularData, static: Any, snapshots: Any, final: Any
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(summary, arrays)``: key frequencies of the final embedding of member 0, and the
    restricted/excluded loss and key-frequency share at every logged step."""
    basis = jnp.asarray(fourier.fourier_basis(cfg.p), dtype=jnp.float32)

    def embedding(params):
        return eqx.combine(params, static).embedding()

    final0 = jax.tree.map(lambda a: jnp.asarray(a[0]), final)
    energy = np.asarray(fourier.frequency_energy(embedding(final0), basis))
    keys = fourier.key_frequencies(energy, cfg.key_factor / len(energy))
    directions = jnp.asarray(
        fourier.sum_directions(data.pairs, cfg.p, keys, FOURIER_OPS[cfg.operation]),
        dtype=jnp.float32,
    )
    labels, train_idx = jnp.asarray(data.answers), jnp.asarray(data.train)
    pairs = jnp.asarray(data.pairs)
    key_idx = jnp.asarray(keys - 1)

    @jax.jit
    def measures(snaps):
        def one(params):
            logits = jax.vmap(eqx.combine(params, static))(pairs)
            out = fourier.progress_losses(logits, labels, directions, train_idx)
            e = fourier.frequency_energy(embedding(params), basis)
            out["key_share"] = jnp.sum(e[key_idx]) / jnp.sum(e)
            out["full_loss"] = fourier.cross_entropy(logits, labels)
            return out

        return lax.map(one, snaps)

    member0 = jax.tree.map(lambda a: jnp.asarray(a[:, 0]), snapshots)
    curves = {k: np.asarray(v) for k, v in measures(member0).items()}
    summary = {
        "key_frequencies": keys.tolist(),
        "energy_share_final": [float(energy[k - 1] / energy.sum()) for k in keys],
        "key_share_final": float(curves["key_share"][-1]),
        "restricted_loss_final": float(curves["restricted_loss"][-1]),
        "excluded_loss_final": float(curves["excluded_loss"][-1]),
    }
    return summary, {"freq_energy": energy, **{f"progress_{k}": v for k, v in curves.items()}}
