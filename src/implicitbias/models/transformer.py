"""The one-layer transformer of Nanda et al. (2023, ICLR), "Progress measures for grokking".

Input tokens ``a b =`` (``=`` is token ``p``), learned token and position embeddings, one
attention layer (``n_heads`` heads, causal), one ReLU MLP, no LayerNorm, no tied weights;
the logits over the ``p`` answers are read at the ``=`` position:

.. math::

    x_0 = W_E[t] + W_{pos},\\quad x_1 = x_0 + \\mathrm{Attn}(x_0),\\quad
    x_2 = x_1 + W_{out}\\,\\mathrm{ReLU}(W_{in} x_1 + b_{in}) + b_{out},\\quad
    \\mathrm{logits} = W_U\\, x_2[\\text{=}].

Only the ``=`` position is read, and it is the last one, so it attends to all three
tokens; the query, the MLP and the unembedding are evaluated at that position only (the
other positions enter through the keys and values). This gives the same logits as running
the causal model on every position and keeping the last, with a third of the MLP work.

Initialization follows the paper's code: ``N(0, 1/d_model)`` for every matrix that reads
the residual stream and for the embeddings, ``randn / sqrt(p + 1)`` for the unembedding
(the paper's ``d_vocab`` is ``p + 1``), zero biases.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp


class OneLayerTransformer(eqx.Module):
    """``d_model`` residual width, ``n_heads`` heads of width ``d_model / n_heads``."""

    embed: jax.Array  # (p + 1, d_model); row p is the "=" token
    pos: jax.Array  # (3, d_model)
    w_q: jax.Array  # (n_heads, d_model, d_head)
    w_k: jax.Array
    w_v: jax.Array
    w_o: jax.Array  # (n_heads, d_head, d_model)
    w_in: jax.Array  # (d_model, d_mlp)
    b_in: jax.Array
    w_out: jax.Array  # (d_mlp, d_model)
    b_out: jax.Array
    unembed: jax.Array  # (d_model, p)
    p: int = eqx.field(static=True)

    def __init__(
        self, p: int, d_model: int = 128, n_heads: int = 4, d_mlp: int = 512, *, key: jax.Array
    ):
        if d_model % n_heads:
            raise ValueError(
                f"`d_model` (={d_model}) must be a multiple of `n_heads` (={n_heads})."
            )
        d_head = d_model // n_heads
        ks = jax.random.split(key, 9)
        scale = 1.0 / jnp.sqrt(d_model)
        self.p = int(p)
        self.embed = jax.random.normal(ks[0], (p + 1, d_model)) * scale
        self.pos = jax.random.normal(ks[1], (3, d_model)) * scale
        self.w_q = jax.random.normal(ks[2], (n_heads, d_model, d_head)) * scale
        self.w_k = jax.random.normal(ks[3], (n_heads, d_model, d_head)) * scale
        self.w_v = jax.random.normal(ks[4], (n_heads, d_model, d_head)) * scale
        self.w_o = jax.random.normal(ks[5], (n_heads, d_head, d_model)) * scale
        self.w_in = jax.random.normal(ks[6], (d_model, d_mlp)) * scale
        self.b_in = jnp.zeros((d_mlp,))
        self.w_out = jax.random.normal(ks[7], (d_mlp, d_model)) * scale
        self.b_out = jnp.zeros((d_model,))
        self.unembed = jax.random.normal(ks[8], (d_model, p)) / jnp.sqrt(p + 1)

    def embedding(self) -> jax.Array:
        """The ``(p, d_model)`` embedding of the number tokens (without ``=``)."""
        return self.embed[: self.p]

    def __call__(self, pair: jax.Array) -> jax.Array:
        """Logits ``(p,)`` at the ``=`` position for one pair ``(a, b)``."""
        tokens = jnp.concatenate([pair, jnp.full((1,), self.p, dtype=pair.dtype)])
        x = self.embed[tokens] + self.pos  # (3, d)
        q = jnp.einsum("d,hde->he", x[-1], self.w_q)  # (H, dh)
        k = jnp.einsum("td,hde->hte", x, self.w_k)  # (H, 3, dh)
        v = jnp.einsum("td,hde->hte", x, self.w_v)
        scores = jnp.einsum("he,hte->ht", q, k) / jnp.sqrt(q.shape[-1])
        z = jnp.einsum("ht,hte->he", jax.nn.softmax(scores, axis=-1), v)
        r = x[-1] + jnp.einsum("he,hed->d", z, self.w_o)  # (d,)
        r = r + jax.nn.relu(r @ self.w_in + self.b_in) @ self.w_out + self.b_out
        return r @ self.unembed
