"""Modular arithmetic as classification: a network maps a pair ``(a, b)`` to ``p`` logits.

The data are the tables of :mod:`implicitbias.datasets.modular`; the networks are the
equinox models of :mod:`implicitbias.models` (:class:`~implicitbias.models.EmbedMLP`, the
one-layer transformer of Nanda et al. 2023). The loss is the mean softmax cross-entropy

.. math::

    L(\\theta) = \\frac1n \\sum_i \\Big(\\log \\sum_c e^{f_\\theta(a_i, b_i)_c}
    - f_\\theta(a_i, b_i)_{y_i}\\Big),

and the metrics logged inside the engine's program are train and test accuracy, the test
loss and the Euclidean norm of all parameters (the quantity Liu et al. 2022, "Omnigrok",
tie grokking to).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp

from implicitbias.diagnostics import fourier
from implicitbias.models import EmbedMLP, OneLayerTransformer, split_model

ModelKind = Literal["mlp", "transformer"]


def make_model(
    kind: ModelKind,
    p: int,
    *,
    d_embed: int = 128,
    d_hidden: int = 256,
    d_model: int = 128,
    n_heads: int = 4,
    d_mlp: int = 512,
    key: jax.Array,
) -> eqx.Module:
    """One network for ``a o b mod p``.

    Args:
        kind: ``"mlp"`` (:class:`EmbedMLP`: ``d_embed``, ``d_hidden``) or ``"transformer"``
            (:class:`OneLayerTransformer`: ``d_model``, ``n_heads``, ``d_mlp``).
        p: the modulus (the vocabulary and the number of classes).
        key: the PRNG key of the init.
    """
    if kind == "mlp":
        return EmbedMLP(p, d_embed, d_hidden, key=key)
    return OneLayerTransformer(p, d_model, n_heads, d_mlp, key=key)


def init_params(kind: ModelKind, p: int, keys: jax.Array, **sizes: int) -> tuple[Any, Any]:
    """``(params with a leading member axis, static part)``: one init per key, batched.

    ``sizes`` are the width keywords of :func:`make_model`.
    """
    models = _init_models(kind, p, tuple(sorted(sizes.items())), keys)
    return split_model(models)


@eqx.filter_jit
def _init_models(kind, p, sizes, keys):
    return eqx.filter_vmap(lambda k: make_model(kind, p, **dict(sizes), key=k))(keys)


def global_norm(params: Any) -> jax.Array:
    """:math:`\\lVert\\theta\\rVert_2` over every leaf, accumulated in float32."""
    return jnp.sqrt(sum(jnp.sum(x.astype(jnp.float32) ** 2) for x in jax.tree.leaves(params)))


@functools.cache
def problem(static: Any) -> tuple[Callable, Callable]:
    """``(loss, metrics)`` for the engine, closing over the static part of the model.

    ``loss(params, (pairs, answers))`` is the mean cross-entropy; ``metrics(params, data,
    aux)`` with ``aux = {"x": test pairs, "y": test answers}`` returns ``train_acc``,
    ``test_loss``, ``test_acc`` and ``norm``. Cached on ``static`` (an equinox module
    skeleton, hashable), so that every run of the same architecture hands the engine the
    same functions and reuses its programs.
    """

    def logits(params, x):
        return jax.vmap(eqx.combine(params, static))(x)

    def loss(params, batch):
        x, y = batch
        return fourier.cross_entropy(logits(params, x), y)

    def metrics(params, data, aux):
        x, y = data
        test = logits(params, aux["x"])
        return {
            "train_acc": jnp.mean(jnp.argmax(logits(params, x), -1) == y),
            "test_loss": fourier.cross_entropy(test, aux["y"]),
            "test_acc": jnp.mean(jnp.argmax(test, -1) == aux["y"]),
            "norm": global_norm(params),
        }

    return loss, metrics


__all__ = ["global_norm", "init_params", "make_model", "problem"]
