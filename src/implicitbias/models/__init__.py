"""Neural network models as equinox modules (one example per call; batch with ``vmap``).

- :class:`~implicitbias.models.mlp.EmbedMLP`: two learned token embeddings, concatenated,
  one ReLU hidden layer.
- :class:`~implicitbias.models.transformer.OneLayerTransformer`: the one-layer, ReLU,
  LayerNorm-free transformer of Nanda et al. (2023).

:func:`split_model` and :func:`merge_model` are ``eqx.partition`` / ``eqx.combine`` on array
leaves: the engine trains the array part, the rest is closed over.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx

from implicitbias.models.mlp import EmbedMLP
from implicitbias.models.transformer import OneLayerTransformer


def split_model(model: Any) -> tuple[Any, Any]:
    """``(params, static)``: the array leaves and everything else."""
    return eqx.partition(model, eqx.is_array)


def merge_model(params: Any, static: Any) -> Any:
    """The model back from :func:`split_model`'s two halves."""
    return eqx.combine(params, static)


def num_params(params: Any) -> int:
    """Number of scalar parameters in a pytree of arrays (one member, no batch axis)."""
    import jax
    import numpy as np

    return int(sum(np.size(x) for x in jax.tree.leaves(params)))


__all__ = ["EmbedMLP", "OneLayerTransformer", "merge_model", "num_params", "split_model"]
