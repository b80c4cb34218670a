"""A two-layer MLP on learned token embeddings, for ``a o b mod p``.

.. math::

    f(a, b) = W_2\\,\\mathrm{ReLU}(W_1 [E_a; E_b] + b_1) + b_2,

with one embedding table ``E`` (``p x d``) shared by both operands. This is the kind of
small network in which Liu et al. (2022, Omnigrok) and Gromov (2023) study grokking.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp


class EmbedMLP(eqx.Module):
    """Embeddings ``(p, d_embed)``, hidden layer ``(2 d_embed, d_hidden)``, readout to ``p``.

    Initialization: ``E ~ N(0, 1)``, weights ``N(0, 1 / fan_in)``, biases zero.
    """

    embed: jax.Array
    w1: jax.Array
    b1: jax.Array
    w2: jax.Array
    b2: jax.Array
    p: int = eqx.field(static=True)

    def __init__(self, p: int, d_embed: int = 128, d_hidden: int = 256, *, key: jax.Array):
        k_e, k_1, k_2 = jax.random.split(key, 3)
        self.p = int(p)
        self.embed = jax.random.normal(k_e, (p, d_embed))
        self.w1 = jax.random.normal(k_1, (2 * d_embed, d_hidden)) / jnp.sqrt(2 * d_embed)
        self.b1 = jnp.zeros((d_hidden,))
        self.w2 = jax.random.normal(k_2, (d_hidden, p)) / jnp.sqrt(d_hidden)
        self.b2 = jnp.zeros((p,))

    def embedding(self) -> jax.Array:
        """The ``(p, d_embed)`` token embedding (for the Fourier measures)."""
        return self.embed

    def __call__(self, pair: jax.Array) -> jax.Array:
        """Logits ``(p,)`` for one pair ``(a, b)`` of int tokens."""
        x = self.embed[pair].reshape(-1)
        return jax.nn.relu(x @ self.w1 + self.b1) @ self.w2 + self.b2
