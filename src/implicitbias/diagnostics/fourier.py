"""Fourier progress measures for modular addition (Nanda et al. 2023, ICLR, section 5).

A network that has grokked ``(a + b) mod p`` represents each token by a few *key
frequencies* ``k``: its embedding is concentrated on ``cos(w_k a), sin(w_k a)`` with
``w_k = 2 pi k / p``, and its logit for answer ``c`` is a sum of terms
``cos(w_k (a + b - c)) = cos(w_k (a + b)) cos(w_k c) + sin(w_k (a + b)) sin(w_k c)``.
So, as a function of the input pair, every logit column lies in the span of
``{1, cos(w_k (a + b)), sin(w_k (a + b))}`` over the key frequencies. Two measures follow:

- **restricted loss**: keep only that span (the constant and the key-frequency directions)
  and evaluate the loss; it falls when the generalizing circuit forms.
- **excluded loss**: remove the key-frequency directions (keep the rest) and evaluate on
  the training pairs; it rises when the network starts to rely on the circuit to fit
  the training set.

All functions are plain JAX/NumPy on arrays; ``p`` must be odd (a prime in practice).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax


def fourier_basis(p: int) -> np.ndarray:
    """``(p, p)`` orthonormal rows over ``x = 0..p-1``: the constant, then
    ``cos(w_k x), sin(w_k x)`` for ``k = 1..(p-1)/2`` (rows ``2k-1`` and ``2k``)."""
    if p < 3 or p % 2 == 0:
        raise ValueError(f"`p` (={p}) must be an odd number >= 3.")
    x = np.arange(p)
    rows = [np.full(p, 1.0 / np.sqrt(p))]
    for k in range(1, (p - 1) // 2 + 1):
        w = 2 * np.pi * k * x / p
        rows += [np.cos(w) * np.sqrt(2.0 / p), np.sin(w) * np.sqrt(2.0 / p)]
    return np.stack(rows)


def frequency_energy(embedding: jax.Array, basis: jax.Array) -> jax.Array:
    """Squared norm of the embedding on each frequency ``k = 1..(p-1)/2``: ``((p-1)/2,)``.

    ``embedding`` is ``(p, d)`` (one row per token); the constant component is left out.
    """
    coeffs = basis @ embedding  # (p, d)
    sq = jnp.sum(coeffs[1:] ** 2, axis=-1)  # (p - 1,)
    return sq[0::2] + sq[1::2]


def key_frequencies(energy: np.ndarray, share: float = 0.05) -> np.ndarray:
    """Frequencies ``k`` (1-based) whose share of the non-constant energy is ``>= share``,
    strongest first. For a random embedding every share is about ``2 / (p - 1)``."""
    energy = np.asarray(energy, dtype=np.float64)
    shares = energy / energy.sum()
    order = np.argsort(-shares, kind="stable")
    return (order[shares[order] >= share] + 1).astype(np.int64)


def sum_directions(pairs: np.ndarray, p: int, freqs: np.ndarray, sign: int = 1) -> np.ndarray:
    """``(N, 1 + 2 K)`` orthonormal columns over the given pairs: the constant, then
    ``cos(w_k (a + sign b)), sin(w_k (a + sign b))`` for each key frequency (QR of those
    vectors; on the full table they are already orthogonal)."""
    s = (pairs[:, 0].astype(np.int64) + sign * pairs[:, 1].astype(np.int64)) % p
    cols = [np.ones(len(s))]
    for k in np.asarray(freqs, dtype=np.int64):
        w = 2 * np.pi * k * s / p
        cols += [np.cos(w), np.sin(w)]
    q, _ = np.linalg.qr(np.stack(cols, axis=1))
    return q


class Ablation(NamedTuple):
    """Logits split along the key-frequency directions of the inputs."""

    restricted: jax.Array  # constant + key-frequency components only
    excluded: jax.Array  # key-frequency components removed


def ablate(logits: jax.Array, directions: jax.Array) -> Ablation:
    """Split ``(N, C)`` logits with the columns of :func:`sum_directions` (``(N, 1 + 2K)``).

    The first column (the constant) is kept in both parts, so each answer keeps its mean
    logit over the inputs.
    """
    coeffs = directions.T @ logits  # (1 + 2K, C)
    const = directions[:, :1] @ coeffs[:1]
    key = directions[:, 1:] @ coeffs[1:]
    return Ablation(restricted=const + key, excluded=logits - key)


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean softmax cross-entropy with integer labels."""
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def progress_losses(
    logits: jax.Array, labels: jax.Array, directions: jax.Array, train: jax.Array
) -> dict[str, jax.Array]:
    """Restricted loss (all pairs) and excluded loss (training pairs) of one model.

    Args:
        logits: ``(N, p)`` on the full table (every pair, in table order).
        labels: ``(N,)`` answers.
        directions: ``(N, 1 + 2K)`` from :func:`sum_directions` on the full table.
        train: ``(N_train,)`` indices of the training pairs.
    """
    parts = ablate(logits, directions)
    return {
        "restricted_loss": cross_entropy(parts.restricted, labels),
        "excluded_loss": cross_entropy(parts.excluded[train], labels[train]),
    }
